import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ExecRequest, ExecResult } from "@azr/protocol";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BwrapBackend } from "./bwrap.ts";
import { DockerBackend } from "./docker.ts";
import { ExecutorPool } from "./pool.ts";
import { DEBIAN_DIST_PACKAGES } from "./system-modules.ts";
import { runHostileSuite } from "./testing/hostile-suite.ts";
import { probeMemoryTraces } from "./testing/memory-trace-probe.ts";
import { IMPORT_SYMPY_VIA_SYS_PATH } from "./testing/sympy-probe.ts";

// These tests need a Docker daemon and the executor image (CI starts dockerd and builds the
// image in .ci/setup.d/50-docker.sh). They are skipped only where there is no daemon socket at
// all; with a daemon but no image they fail, naming the build command.
const socket = "/var/run/docker.sock";
const hasDaemon = existsSync(socket);

interface Fixture {
  program: string;
  inputs: string[];
  solverProgram: string;
  solverInputs: string[];
}

const fixtures = (
  JSON.parse(readFileSync(new URL("../../../bench/executor/fixtures.json", import.meta.url), "utf8")) as { programs: Fixture[] }
).programs;

describe.skipIf(!hasDaemon)("docker backend", () => {
  const installationId = `test-${process.pid}`;
  let pool: ExecutorPool;
  const docker = new Docker({ socketPath: socket });
  const ours = () => docker.listContainers({ all: true, filters: { label: [`org.azr.executor.installation=${installationId}`] } });

  beforeAll(async () => {
    pool = await new ExecutorPool(new DockerBackend({ installationId }), { runners: 2, startTimeoutMs: 120_000 }).start();
  }, 240_000);
  afterAll(async () => {
    await pool?.close();
  }, 60_000);

  it("runs the runner as uid 65534, PID 1, in a locked-down container", async () => {
    expect(pool.runtime).toMatchObject({ uid: 65534, pid: 1, hashSeed: "0" });
    const containers = await ours();
    expect(containers).toHaveLength(2);
    for (const c of containers) {
      const info = await docker.getContainer(c.Id).inspect();
      expect(info.Config.User).toBe("65534:65534");
      expect(info.HostConfig).toMatchObject({
        NetworkMode: "none",
        ReadonlyRootfs: true,
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges:true"],
        Privileged: false,
        IpcMode: "none",
      });
      expect(info.HostConfig.Memory).toBeGreaterThan(0);
      expect(info.HostConfig.PidsLimit).toBeGreaterThan(0);
      // Nothing from the host is mounted but the runner's (already deleted) socket directory,
      // read-only; never the Docker socket.
      expect(info.Mounts).toHaveLength(1);
      expect(info.Mounts[0]).toMatchObject({ Type: "bind", Destination: "/run/azr", RW: false });
      expect(existsSync(info.Mounts[0]!.Source)).toBe(false);
      // /tmp, and an empty read-only tmpfs hiding the image's python3-sympy (scoring pools only).
      expect(Object.keys(info.HostConfig.Tmpfs ?? {})).toEqual(["/tmp", DEBIAN_DIST_PACKAGES]);
    }
  });

  it("keeps the image's sympy out of reach of an ordinary pool, even via sys.path", async () => {
    const r = await pool.run(IMPORT_SYMPY_VIA_SYS_PATH);
    expect(r.calls[0]?.[0]).toMatchObject({ status: "error", errorType: "ModuleNotFoundError" });
  });

  it("leaves jobs no way back to the runner's socket", async () => {
    const r = await pool.run({ id: "sock", kind: "run", program: "import os\ndef f():\n    return os.listdir('/run/azr')", calls: [""] });
    expect(r.calls[0]?.[0]).toEqual({ status: "ok", value: { t: "list", v: [] } });
  });

  it("leaves a job no trace of earlier jobs (source, inputs, results) in the memory it inherits", async () => {
    const report = await probeMemoryTraces(pool);
    expect(report.earlier.map((r) => r.status)).toEqual(report.earlier.map(() => "ok"));
    expect(report.controlSeen).toEqual(report.controlSeen.map(() => true));
    expect(report.leaked).toEqual(report.leaked.map(() => []));
  });

  it("gives the exact status for every hostile case and stays healthy", async () => {
    const marker = path.join(tmpdir(), `azr-hostile-docker-${process.pid}`);
    try {
      const report = await runHostileSuite(pool, { hostMarker: marker, envCanary: `canary-${process.pid}`, backend: "docker" });
      expect(report.problems).toEqual([]);
    } finally {
      rmSync(marker, { force: true });
    }
  }, 120_000);

  it("grades the whole fixture set exactly like bwrap (same interpreter, every status and value)", async () => {
    const requests: ExecRequest[] = fixtures.flatMap((fx, i) => [
      { id: `p${i}`, kind: "run" as const, program: fx.program, calls: [...fx.inputs, ...fx.solverInputs], repeat: 1 },
      { id: `s${i}`, kind: "run" as const, program: fx.solverProgram, calls: fx.inputs.slice(5), argsMode: "literal" as const },
    ]);
    const bwrap = await new ExecutorPool(new BwrapBackend(), { runners: 2 }).start();
    let a: ExecResult[];
    try {
      expect(bwrap.runtime?.python).toBe(pool.runtime?.python);
      a = await bwrap.runAll(requests);
    } finally {
      await bwrap.close();
    }
    const b = await pool.runAll(requests);
    const strip = (r: ExecResult) => JSON.stringify({ id: r.id, status: r.status, error: r.error, calls: r.calls, stdout: r.stdout });
    let differences = 0;
    const examples: string[] = [];
    a.forEach((r, i) => {
      if (strip(r) !== strip(b[i]!)) {
        differences++;
        if (examples.length < 3) examples.push(`${strip(r)}\n  vs ${strip(b[i]!)}`);
      }
    });
    expect(examples).toEqual([]);
    expect(differences).toBe(0);
    expect(a.filter((r) => r.status === "ok").length).toBeGreaterThan(fixtures.length);
  }, 240_000);

  it("a scoring pool preloads the image's sympy and decides equivalences like bwrap", async () => {
    const scoring = await new ExecutorPool(new DockerBackend({ installationId: `${installationId}-scoring`, systemModules: ["sympy"] }), { runners: 1, startTimeoutMs: 120_000 }).start();
    try {
      expect(scoring.runtime?.preloaded?.[0]).toMatch(/^sympy \d/);
      const r = await scoring.run({
        id: "eq",
        kind: "run",
        program: "import sympy\ndef f(a, b):\n    return sympy.simplify(sympy.sympify(a) - sympy.sympify(b)) == 0",
        calls: ["'x + 1', '1 + x'", "'x + 1', 'x + 2'"],
        limits: { memoryMb: 1024 },
      });
      expect(r.calls.map((c) => c[0])).toEqual([
        { status: "ok", value: { t: "bool", v: true } },
        { status: "ok", value: { t: "bool", v: false } },
      ]);
    } finally {
      await scoring.close();
    }
  }, 240_000);

  it("also works over the daemon's attach stream", async () => {
    const attached = await new ExecutorPool(new DockerBackend({ installationId, channel: "attach" }), { runners: 1, startTimeoutMs: 120_000 }).start();
    try {
      const r = await attached.run({ id: "att", kind: "run", program: "def f(x):\n    return x[::-1]", calls: ["'abc'"] });
      expect(r.calls[0]?.[0]).toEqual({ status: "ok", value: { t: "str", v: "cba" } });
    } finally {
      await attached.close();
    }
  }, 180_000);

  it("replaces a container that dies, and removes its containers on shutdown", async () => {
    const [victim] = await ours();
    await docker.getContainer(victim!.Id).kill();
    for (let i = 0; i < 100 && pool.metrics().crashes === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => pool.run({ id: `after${i}`, kind: "run", program: "def f(x):\n    return x * 2", calls: [String(i)] })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(6).fill("ok"));
    expect(pool.metrics().crashes).toBe(1);
    const health = await pool.runOnEveryRunner({ kind: "run", program: "def f():\n    return 1", calls: [""] });
    expect(health.map((r) => r.status)).toEqual(["ok", "ok"]);
    await pool.close();
    expect(await ours()).toEqual([]);
  }, 180_000);
});
