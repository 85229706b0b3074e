import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { RunConfig } from "@azr/azr";
import { DEMO_TINY_CONFIG, demoRunConfig, ensureDemoPolicy } from "@azr/demo";
import { createTestDatabase, type TestDatabase } from "@azr/db/testing";
import type { Database } from "@azr/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminConfigSchema } from "./admin-config.ts";
import { startRuntime, type Runtime } from "./runtime.ts";

/** Creates a run of `config` in `poolName`, submits it, and waits until it completes or fails
 * (throws after `ms`). */
async function runToEndOf(db: Database, runtime: Runtime, name: string, config: RunConfig, poolName: string, ms: number) {
  const owner = await db.prisma.user.create({ data: { name: "o" } });
  const run = await db.prisma.run.create({
    data: { name, ownerId: owner.id, config: config as object, seed: 0n, poolName, modelName: config.model.name, totalSteps: config.schedule.totalSteps },
  });
  await runtime.orchestrator.submit(run.id);
  return { run, ended: await runToEnd(db, run.id, ms) };
}

/** Polls until the run completes or fails, and returns it; throws after `ms`. */
async function runToEnd(db: Database, runId: string, ms: number) {
  const t0 = Date.now();
  for (;;) {
    const r = await db.prisma.run.findUniqueOrThrow({ where: { id: runId } });
    if (r.status === "completed" || r.status === "failed") return r;
    if (Date.now() - t0 > ms) throw new Error(`still ${r.status} after ${ms / 1000} s`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

// The real thing on a small scale: the runtime with the local launcher starting the real Python
// tiny worker (random init), the bwrap executor and the embedded database, for two steps.

describe("runtime with the real tiny worker and the bwrap executor", () => {
  let tdb: TestDatabase;
  let db: Database;
  let runtime: Runtime;
  let dataDir: string;
  const steps: number[] = [];
  beforeAll(async () => {
    tdb = await createTestDatabase("pglite");
    db = await tdb.open();
    dataDir = mkdtempSync(path.join(tmpdir(), "azr-runtime-"));
    const admin = adminConfigSchema.parse({
      pools: [{ name: "local", launcher: "local", concurrency: 1 }],
      models: { "tiny-test": { backend: "tiny", source: { kind: "random-init" }, tiny: { nLayer: 1, nHead: 2, dModel: 32, contextLength: 1280 } } },
    });
    runtime = await startRuntime({ db, dataDir, admin, executorRunners: 2, onStep: (p) => steps.push(p.step) });
  });
  afterAll(async () => {
    await runtime?.close();
    await db?.close();
    await tdb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs a queued run to completion: generate, execute, train, checkpoint through the worker protocol", async () => {
    // Its triplet seeds come from a file in the data directory's seed folder (admin seeds.root).
    mkdirSync(path.join(dataDir, "seeds"));
    const seedRows = [["'abc'", "'cba'"], ["'hello'", "'olleh'"]].map(([input, output]) => JSON.stringify({ snippet: "def f(s):\n    return s[::-1]", input, output, imports: [] }));
    writeFileSync(path.join(dataDir, "seeds", "tiny_seed_io.jsonl"), seedRows.join("\n") + "\n");
    const config = demoRunConfig({
      azr: { seedSource: "import", seedTripletsFile: "tiny_seed_io.jsonl" },
      schedule: { totalSteps: 2, checkpointInterval: 1 },
      sampling: { maxResponseLength: 64 },
      model: { name: "tiny-test" },
    });
    const { run, ended } = await runToEndOf(db, runtime, "real", config, "local", 240_000);
    expect(ended.failureReason).toBeNull();
    expect(ended.status).toBe("completed");
    expect(steps).toEqual([1, 2]);
    const rollouts = await db.prisma.rollout.count({ where: { runId: run.id, purpose: "train" } });
    expect(rollouts).toBeGreaterThanOrEqual(2 * 3 * config.azr.batchSize);
    const ckpts = await db.prisma.checkpoint.findMany({ where: { runId: run.id } });
    expect(ckpts.map((c) => c.step).sort()).toEqual([1, 2]);
    expect(Number(ckpts[0]!.sizeBytes)).toBeGreaterThan(1000);
    const after = await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(after.reproducibility).toMatchObject({ worker: { backend: "tiny", host: expect.stringMatching(/^local:/) } });
    const loss = await db.prisma.metricSeries.findUnique({ where: { runId_key: { runId: run.id, key: "train/tokens_per_s" } } });
    expect(loss?.count).toBe(2);
    const seeds = await db.prisma.bufferEntry.findMany({ where: { runId: run.id, stepAdded: 0, taskType: "deduction" }, orderBy: { id: "asc" } });
    expect(seeds.map((e) => [e.origin, e.input])).toEqual([["imported", "'abc'"], ["imported", "'hello'"]]);
  }, 300_000);
});

describe("runtime: kill -9 of the real worker mid-step", () => {
  it("relaunches the worker from the last checkpoint and completes with exactly N steps", async () => {
    const tdb = await createTestDatabase("postgres");
    const db = await tdb.open();
    const dataDir = mkdtempSync(path.join(tmpdir(), "azr-runtime-kill-"));
    const admin = adminConfigSchema.parse({
      pools: [{ name: "local", launcher: "local", concurrency: 1 }],
      models: { "tiny-test": { backend: "tiny", source: { kind: "random-init" }, tiny: { nLayer: 1, nHead: 2, dModel: 32, contextLength: 1280 } } },
    });
    let killed: number | undefined;
    const runtime = await startRuntime({
      db,
      dataDir,
      admin,
      executorRunners: 2,
      onStep: (p) => {
        if (p.step !== 1 || killed !== undefined) return;
        // Find this attempt's worker process by the id it says hello with (--worker-id).
        void db.prisma.run.findUniqueOrThrow({ where: { id: p.runId } }).then((r) => {
          const workerId = String((r.reproducibility as { worker?: { host?: string } }).worker?.host ?? "").replace(/^local:/, "");
          for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
            try {
              if (workerId && readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(workerId)) {
                killed = Number(pid);
                process.kill(killed, "SIGKILL");
                break;
              }
            } catch {
              // processes come and go
            }
          }
        });
      },
    });
    try {
      const config = demoRunConfig({ schedule: { totalSteps: 3, checkpointInterval: 1 }, sampling: { maxResponseLength: 48 }, model: { name: "tiny-test" } });
      const { run, ended } = await runToEndOf(db, runtime, "kill", config, "local", 400_000);
      expect(ended.failureReason).toBeNull();
      expect(ended.status).toBe("completed");
      expect(killed).toBeGreaterThan(0);
      expect((await db.prisma.step.findMany({ where: { runId: run.id }, orderBy: { index: "asc" } })).map((s) => s.index)).toEqual([1, 2, 3]);
      const lost = await db.prisma.runEvent.findFirstOrThrow({ where: { runId: run.id, toStatus: "provisioning", fromStatus: { not: "queued" } } });
      expect(lost.message).toMatch(/^worker lost \((disconnected|worker exited)/);
      const perStep = await db.prisma.rollout.groupBy({ by: ["step"], where: { runId: run.id, role: "propose" }, _count: true, orderBy: { step: "asc" } });
      expect(perStep.map((r) => r._count)).toEqual([1, 2, 3].map(() => 3 * config.azr.batchSize));
    } finally {
      await runtime.close();
      await db.close();
      await tdb.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 600_000);
});

// The seeding stage end to end: the real tiny worker serving the committed demo policy (a random
// init writes nothing valid) proposes the seeds, the worker's tokenizer counts the prompts, the
// bwrap executor validates them.
describe("runtime: the seeding stage with the real tiny worker and the demo policy", () => {
  it("seeds batchSize × seedBatchFactor triplets and induction tasks before step 1", async () => {
    const tdb = await createTestDatabase("postgres");
    const db = await tdb.open();
    const dataDir = mkdtempSync(path.join(tmpdir(), "azr-runtime-seeding-"));
    const policy = ensureDemoPolicy(dataDir);
    const admin = adminConfigSchema.parse({
      pools: [{ name: "local", launcher: "local", concurrency: 1 }],
      models: { "tiny-demo": { backend: "tiny", source: { kind: "directory", path: policy.checkpoint }, tiny: { ...DEMO_TINY_CONFIG } } },
    });
    const runtime = await startRuntime({ db, dataDir, admin, executorRunners: 2 });
    try {
      const config = demoRunConfig({ azr: { seedSource: "generate", seedBatchFactor: 1 }, schedule: { totalSteps: 1, checkpointInterval: 1 }, optim: { lr: 1e-5 }, model: { name: "tiny-demo" } });
      const target = config.azr.batchSize * config.azr.seedBatchFactor;
      const { run, ended } = await runToEndOf(db, runtime, "seeding", config, "local", 500_000);
      expect(ended.failureReason).toBeNull();
      expect(ended.status).toBe("completed");
      const step = await db.prisma.step.findUniqueOrThrow({ where: { runId_index: { runId: run.id, index: 1 } } });
      const seeds = await db.prisma.bufferEntry.findMany({ where: { runId: run.id, stepAdded: 0 } });
      for (const type of ["abduction", "deduction", "induction"] as const) {
        const mine = seeds.filter((s) => s.taskType === type);
        expect(mine.length, type).toBe(target);
        expect(mine.every((s) => s.origin === "seed" && s.createdAt <= step.startedAt)).toBe(true);
      }
      // Beyond the identity seed, the policy's own programs.
      expect(new Set(seeds.filter((s) => s.taskType === "deduction").map((s) => s.program)).size).toBeGreaterThan(1);
      const events = await db.prisma.runEvent.findMany({ where: { runId: run.id, message: { startsWith: "seed" } }, orderBy: { id: "asc" } });
      expect(events[0]!.message).toMatch(/^seeding triplet round 1\/50: /);
      expect(events.at(-1)!.message).toMatch(new RegExp(`^seeded the buffers with the policy: ${target}/${target} triplet seeds in \\d+ rounds`));
      const figures = await db.prisma.metricSeries.findUniqueOrThrow({ where: { runId_key: { runId: run.id, key: "seeding/triplet_valid_rate" } } });
      expect(figures.lastValue).toBeGreaterThan(0);
    } finally {
      await runtime.close();
      await db.close();
      await tdb.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 600_000);
});

// The docker launcher for a short run: the worker-cpu container (docker/worker-cpu, built once per
// CI run by .ci/setup.d/60-worker-image.sh) dials the attempt's hub on the workers' network.
const Docker = (await import("dockerode")).default;
const daemon = await new Docker().ping().then(
  () => "",
  (e: unknown) => `no Docker daemon (${(e as Error).message})`,
);
const inCI = process.env.CI === "true";
if (daemon && !inCI) console.warn(`[runtime docker test] skipped: ${daemon}`);

describe.skipIf(!!daemon && !inCI)("runtime with a docker pool (real daemon, worker-cpu image)", () => {
  it("runs a short run in the worker container and removes it afterwards", async () => {
    expect(daemon, "CI must have a Docker daemon").toBe("");
    const { execFile } = await import("node:child_process");
    const { promisify } = await import("node:util");
    const repo = new URL("../../../", import.meta.url).pathname;
    const { stdout } = await promisify(execFile)("bash", [path.join(repo, "docker/worker-cpu/build.sh")], { timeout: 1_000_000, maxBuffer: 1 << 20 });
    const image = stdout.trim().split("\n").at(-1)!;
    const tdb = await createTestDatabase("pglite");
    const db = await tdb.open();
    const dataDir = mkdtempSync(path.join(tmpdir(), "azr-runtime-docker-"));
    chmodSync(dataDir, 0o755); // mkdtemp makes it 0700; the container's user must traverse it
    const installationId = `rt-${Date.now().toString(36)}`;
    const admin = adminConfigSchema.parse({
      pools: [{ name: "cpu-docker", launcher: "docker", images: [image], resources: { cpus: 1, memoryGb: 2 } }],
      models: { "tiny-test": { backend: "tiny", source: { kind: "random-init" }, tiny: { nLayer: 1, nHead: 2, dModel: 32, contextLength: 1280 } } },
    });
    const runtime = await startRuntime({ db, dataDir, admin, executorRunners: 2, launcherSettings: { installationId } });
    try {
      const config = demoRunConfig({ schedule: { totalSteps: 1, checkpointInterval: 1 }, sampling: { maxResponseLength: 32 }, model: { name: "tiny-test" } });
      const { run, ended } = await runToEndOf(db, runtime, "docker", config, "cpu-docker", 400_000);
      expect(ended.failureReason).toBeNull();
      expect(ended.status).toBe("completed");
      const after = await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
      expect(after.reproducibility).toMatchObject({ worker: { backend: "tiny", host: expect.stringMatching(/^docker:/), image: expect.stringMatching(/^sha256:/) } });
      expect(await db.prisma.checkpoint.count({ where: { runId: run.id } })).toBe(1);
      // The attempt stops and removes its container right after recording completion.
      for (let i = 0; i < 120 && runtime.orchestrator.activeRuns().length; i++) await new Promise((res) => setTimeout(res, 500));
      const left = await new Docker().listContainers({ all: true, filters: { label: [`org.azr.installation=${installationId}`] } });
      expect(left).toEqual([]);
    } finally {
      await runtime.close();
      await db.close();
      await tdb.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 600_000);
});
