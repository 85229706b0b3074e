// The local launcher with a real Python worker (apps/worker, Debian's python3 + torch, the tiny
// backend) dialling a real WorkerHub.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { WorkerHub, tokenVerifier } from "@azr/worker-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultAdminConfig, type PoolConfig } from "../admin-config.ts";
import { LocalLauncher } from "./local.ts";
import { LauncherError, type WorkerSpec } from "./types.ts";

const pool = defaultAdminConfig.pools[0] as PoolConfig;
const token = randomBytes(24).toString("hex");
let hub: WorkerHub;
const launcher = new LocalLauncher({ threads: 1 });
const started: string[] = [];

function spec(workerId: string, over: Partial<WorkerSpec> = {}): WorkerSpec {
  started.push(workerId);
  return {
    runId: "run-local-1",
    attempt: 1,
    workerId,
    hubUrl: hub.url,
    token,
    backend: "tiny",
    model: { name: "tiny" },
    dataRoot: mkdtempSync(path.join(tmpdir(), "azr-launcher-local-")),
    gpus: 0,
    resources: {},
    pool,
    graceSeconds: 5,
    ...over,
  };
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of lines) out.push(l);
  return out;
}

beforeAll(async () => {
  hub = await WorkerHub.listen({ verifyToken: tokenVerifier(token) });
});
afterEach(async () => {
  for (const id of started.splice(0)) await launcher.stop(id, { graceMs: 2000 });
});
afterAll(async () => {
  await hub?.close();
});

describe("local launcher", () => {
  it("starts a worker that connects to the hub and answers; stop ends the process", async () => {
    const launched = await launcher.create(spec("lw-basic"));
    expect(launched).toMatchObject({ kind: "local", id: "lw-basic", workerId: "lw-basic", runId: "run-local-1", attempt: 1 });
    const client = await hub.waitForWorker("lw-basic", 60_000);
    expect(client.hello.backend).toBe("tiny");
    const pid = launcher.pid(launched.id)!;
    expect(client.hello.pid).toBe(pid);
    await client.load({ model: "tiny", tiny: { nLayer: 1, nHead: 2, dModel: 32, contextLength: 32 }, seed: 3 });
    const g = await client.generate({ prompts: ["ab"], n: 2, maxTokens: 4, seed: 1, store: false });
    expect(g.rollouts).toHaveLength(2);
    expect(await launcher.observe(launched.id)).toEqual({ state: "running", exitCode: null });

    const logs = await collect(launcher.logs(launched.id));
    expect(logs.some((l) => l.includes("worker"))).toBe(true);

    const follower = collect(launcher.logs(launched.id, { follow: true }));
    await launcher.stop(launched.id, { graceMs: 5000 });
    // Following ends when the process has exited (it would hang otherwise).
    expect((await follower).length).toBeGreaterThanOrEqual(logs.length);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(await launcher.observe(launched.id)).toEqual({ state: "missing", exitCode: null });
    hub.remove("lw-basic");
  });

  it("gives the worker a minimal environment: none of the server's secrets", async () => {
    const secrets = {
      DATABASE_URL: `postgresql://azr:${randomBytes(8).toString("hex")}@127.0.0.1:5432/azr`,
      AZR_ADMIN_TOKEN: randomBytes(16).toString("hex"),
      AZR_SESSION_SECRET: randomBytes(16).toString("hex"),
    };
    const before = { ...process.env };
    Object.assign(process.env, secrets);
    let pid: number;
    try {
      const launched = await launcher.create(spec("lw-env"));
      pid = launcher.pid(launched.id)!;
    } finally {
      for (const k of Object.keys(secrets)) if (before[k] === undefined) delete process.env[k];
      Object.assign(process.env, before);
    }
    await hub.waitForWorker("lw-env", 60_000);
    const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
    const names = environ.map((e) => e.slice(0, e.indexOf("=")));
    for (const [name, value] of Object.entries(secrets)) {
      expect(names).not.toContain(name);
      expect(environ.join("\n")).not.toContain(value);
    }
    expect(environ).toContain(`AZR_WORKER_TOKEN=${token}`);
    // Everything else it has is what the spawner sets on purpose.
    expect(names.filter((n) => !/^(AZR_WORKER_|PYTHON)/.test(n)).sort()).toEqual(["CUDA_VISIBLE_DEVICES", "HOME", "LANG", "OMP_NUM_THREADS", "PATH"]);
    // ... and the token is not on its command line.
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toContain(token);
    hub.remove("lw-env");
  });

  it("reports a worker that exits by itself, with its exit code and logs", async () => {
    // Nothing listens there: the worker gives up after its grace period and exits (code 3).
    const launched = await launcher.create(spec("lw-alone", { hubUrl: "ws://127.0.0.1:1/worker", graceSeconds: 1 }));
    const end = Date.now() + 60_000;
    while ((await launcher.observe(launched.id)).state === "running" && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    const seen = await launcher.observe(launched.id);
    expect(seen.state).toBe("exited");
    expect(seen.exitCode).toBe(3);
    expect((await collect(launcher.logs(launched.id))).join("\n")).toMatch(/control plane gone/);
  });

  it("refuses specs that are not for it", async () => {
    const dockerPool: PoolConfig = { name: "gpu", launcher: "docker", concurrency: 1, gpusPerWorker: 0, resources: {}, images: [`w@sha256:${"a".repeat(64)}`], socketPath: "/var/run/docker.sock" };
    await expect(launcher.create(spec("lw-x", { pool: dockerPool }))).rejects.toThrow(/docker pool, not local/);
    await expect(launcher.create(spec("lw-y", { model: { name: "m", path: "../etc" } }))).rejects.toThrow(LauncherError);
    await expect(launcher.create(spec("lw-z", { gpus: 1 }))).rejects.toThrow(/needs 1 GPU/);
  });
});
