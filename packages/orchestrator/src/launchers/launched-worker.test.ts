// startLaunchedWorker over the local launcher with real worker processes: a token per attempt,
// a hub that accepts only it, connection, death detection, and close.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { defaultAdminConfig, type PoolConfig } from "../admin-config.ts";
import { startLaunchedWorker, WorkerExitedError } from "./launched-worker.ts";
import { LocalLauncher } from "./local.ts";
import type { WorkerSpec } from "./types.ts";

const launcher = new LocalLauncher({ threads: 1 });
const pool = defaultAdminConfig.pools[0] as PoolConfig;

function spec(workerId: string, attempt = 1): Omit<WorkerSpec, "hubUrl" | "token"> {
  return {
    runId: "run-launched",
    attempt,
    workerId,
    backend: "tiny",
    model: { name: "tiny" },
    dataRoot: mkdtempSync(path.join(tmpdir(), "azr-launched-")),
    gpus: 0,
    resources: {},
    pool,
    graceSeconds: 2,
  };
}

function tokenOf(pid: number): string {
  const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
  return env.find((e) => e.startsWith("AZR_WORKER_TOKEN="))!.slice("AZR_WORKER_TOKEN=".length);
}

/** Whether a hub at `url` accepts a hello from `workerId` with `token` (closes 4001 if not). */
async function accepts(url: string, token: string, workerId = "probe"): Promise<"accepted" | "refused" | "unreachable"> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on("error", () => resolve("unreachable"));
    ws.on("open", () => {
      ws.send(JSON.stringify({ type: "hello", protocol: 1, workerId, token, backend: "tiny", model: null, devices: [], memoryBytes: 0, versions: {}, pid: 1, worldSize: 1, reconnect: false }));
      setTimeout(() => {
        resolve("accepted");
        ws.close();
      }, 500);
    });
    ws.on("close", (code) => resolve(code === 4001 ? "refused" : "accepted"));
  });
}

describe("startLaunchedWorker", () => {
  it("mints a token per attempt that only that attempt's hub accepts, and that dies with it", async () => {
    const a = await startLaunchedWorker({ launcher, spec: spec("lw-a1", 1), hubHost: "127.0.0.1" });
    const b = await startLaunchedWorker({ launcher, spec: spec("lw-a2", 2), hubHost: "127.0.0.1" });
    try {
      expect(a.client.hello.workerId).toBe("lw-a1");
      expect(await a.client.ping()).toEqual({});
      const ta = tokenOf(launcher.pid(a.launched.id)!);
      const tb = tokenOf(launcher.pid(b.launched.id)!);
      expect(ta).toMatch(/^[a-f0-9]{64}$/);
      expect(tb).not.toBe(ta);
      expect(await accepts(a.hub.url, tb, "lw-a1")).toBe("refused");
      // One worker per token: another worker id presenting the right token is refused too.
      expect(await accepts(a.hub.url, ta, "probe")).toBe("refused");
      expect(await accepts(a.hub.url, ta, "lw-a1")).toBe("accepted");
      const pid = launcher.pid(a.launched.id)!;
      await a.close();
      expect(() => process.kill(pid, 0)).toThrow();
      expect(await launcher.observe(a.launched.id)).toEqual({ state: "missing", exitCode: null });
      // The attempt is over: its token is accepted nowhere.
      expect(await accepts(a.hub.url, ta, "lw-a1")).toBe("unreachable");
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("reports a worker that dies while serving", async () => {
    const w = await startLaunchedWorker({ launcher, spec: spec("lw-dies"), hubHost: "127.0.0.1", pollMs: 200 });
    try {
      process.kill(launcher.pid(w.launched.id)!, "SIGKILL");
      const err = await w.died.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerExitedError);
      expect((err as WorkerExitedError).observation).toEqual({ state: "exited", exitCode: null, reason: "killed by SIGKILL" });
    } finally {
      await w.close();
    }
  });

  it("fails fast, with the worker's log, when the worker exits before connecting", async () => {
    const t0 = Date.now();
    // The worker is told a URL where nothing listens: it gives up after its 2 s grace.
    const err = await startLaunchedWorker({
      launcher,
      spec: spec("lw-lost"),
      hubHost: "127.0.0.1",
      advertisedUrl: () => "ws://127.0.0.1:1/worker",
      pollMs: 200,
      connectTimeoutMs: 120_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerExitedError);
    expect((err as Error).message).toMatch(/exited \(3\)[\s\S]*control plane gone/);
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(await launcher.observe("lw-lost")).toEqual({ state: "missing", exitCode: null });
  });
});
