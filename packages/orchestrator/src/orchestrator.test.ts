import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defaultRunConfig } from "@azr/azr";
import type { Database } from "@azr/db";
import { createTestDatabase, testBackends, type TestDatabase } from "@azr/db/testing";
import { BwrapBackend, ExecutorPool } from "@azr/executor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAdminConfig } from "./admin-config.ts";
import { CheckpointStore } from "./checkpoints.ts";
import { Orchestrator } from "./orchestrator.ts";
import type { WorkerFactory } from "./run-attempt.ts";
import { InProcessRunQueue, PgBossRunQueue, type RunQueue } from "./run-queue.ts";
import { recordedWorkerSession } from "./testing/recorded-policy.ts";

const child = fileURLToPath(new URL("./testing/orchestrator-child.ts", import.meta.url));
const pools = defaultAdminConfig.pools.map((p) => ({ name: p.name, concurrency: p.concurrency }));

let executor: ExecutorPool;
beforeAll(async () => {
  executor = await new ExecutorPool(new BwrapBackend(), { runners: 2 }).start();
});
afterAll(async () => executor?.close());

const until = async (cond: () => Promise<boolean>, ms = 60_000) => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe.each(testBackends)("orchestrator (%s)", (backend) => {
  let tdb: TestDatabase;
  let root: string;
  let ownerId: string;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    root = mkdtempSync(path.join(tmpdir(), "azr-orch-"));
    const db = await tdb.open();
    ownerId = (await db.prisma.user.create({ data: { name: "owner" } })).id;
    await db.close();
  });
  afterAll(async () => {
    await tdb?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  const queueFor = (): RunQueue =>
    tdb.target.kind === "postgres" ? new PgBossRunQueue(tdb.target.url, pools, { pollingIntervalSeconds: 0.5 }) : new InProcessRunQueue(pools);
  const orchestratorFor = (db: Database, queue: RunQueue, workers: WorkerFactory) =>
    new Orchestrator({ prisma: db.prisma, admin: defaultAdminConfig, queue, executor, checkpoints: new CheckpointStore(db.prisma, { root, keepLast: 5 }), workersFor: () => workers });

  it("after the server is killed (SIGKILL) mid-step, the next server completes the run with exactly N steps", async () => {
    const config = defaultRunConfig("tiny-cpu");
    config.schedule = { ...config.schedule, totalSteps: 4, checkpointInterval: 2 };
    let db = await tdb.open();
    const run = await db.prisma.run.create({
      data: { name: "crash", ownerId, config: config as object, seed: 0n, poolName: "local", modelName: "tiny", totalSteps: 4 },
    });
    await db.close(); // the child process owns the database (PGlite allows one process)

    const where = tdb.target.kind === "postgres" ? tdb.target.url : tdb.target.dataDir;
    const proc = spawn(process.execPath, ["--import", "tsx", child, backend, where, root, "3"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => proc.on("exit", r));
    await until(async () => out.includes("ready"));
    if (backend === "postgres") {
      // The queued run reaches the child through the durable queue.
      const sender = queueFor();
      await sender.enqueue({ runId: run.id, pool: "local", priority: 0, queuedAt: run.queuedAt });
      await sender.stop();
    }
    await until(async () => out.includes("step 2"), 90_000).catch((e) => {
      throw new Error(`${(e as Error).message}; child said:\n${out}`);
    });
    await new Promise((r) => setTimeout(r, 1000)); // now inside step 3, whose generation hangs
    proc.kill("SIGKILL");
    await exited;

    db = await tdb.open();
    try {
      const stranded = await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
      expect(stranded.status).toBe("running");
      expect(stranded.currentStep).toBe(2);
      const orchestrator = orchestratorFor(db, queueFor(), (async () => recordedWorkerSession()) as WorkerFactory);
      await orchestrator.start();
      await until(async () => (await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).status === "completed", 90_000);
      await orchestrator.shutdown();
      const steps = await db.prisma.step.findMany({ where: { runId: run.id }, orderBy: { index: "asc" } });
      expect(steps.map((s) => s.index)).toEqual([1, 2, 3, 4]);
      const relaunch = await db.prisma.runEvent.findFirstOrThrow({ where: { runId: run.id, actor: "server", toStatus: "provisioning" } });
      expect(relaunch.message).toContain("restarted mid-step");
      const perStep = await db.prisma.rollout.groupBy({ by: ["step"], where: { runId: run.id, role: "propose" }, _count: true, orderBy: { step: "asc" } });
      expect(perStep.map((r) => r._count)).toEqual([4, 4, 4, 4].map((n) => n * 3));
    } finally {
      await db.close();
    }
  }, 240_000);

  it("cancel stops a running run; resume continues it from its last checkpoint to completion", async () => {
    const config = defaultRunConfig("tiny-cpu");
    config.schedule = { ...config.schedule, totalSteps: 6, checkpointInterval: 1 };
    const db = await tdb.open();
    try {
      const run = await db.prisma.run.create({
        data: { name: "cancel", ownerId, config: config as object, seed: 0n, poolName: "local", modelName: "tiny", totalSteps: 6 },
      });
      // Slow the double down so the cancel lands mid-run.
      const slow: WorkerFactory = async () => {
        const s = recordedWorkerSession();
        const g = s.policy.generate.bind(s.policy);
        s.policy.generate = async (b) => (await new Promise((r) => setTimeout(r, 150)), g(b));
        return s;
      };
      const orchestrator = orchestratorFor(db, queueFor(), slow);
      await orchestrator.start();
      await orchestrator.submit(run.id);
      await until(async () => (await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).currentStep >= 2);
      const t0 = Date.now();
      await orchestrator.cancel(run.id, "user:owner");
      await until(async () => orchestrator.activeRuns().length === 0, 10_000);
      expect(Date.now() - t0).toBeLessThan(5_000);
      const cancelled = await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
      expect(cancelled.status).toBe("cancelled");
      expect(cancelled.currentStep).toBeLessThan(6);

      await orchestrator.resume(run.id, "user:owner");
      await until(async () => (await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).status === "completed", 90_000);
      await orchestrator.shutdown();
      expect((await db.prisma.step.findMany({ where: { runId: run.id } })).map((s) => s.index).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    } finally {
      await db.close();
    }
  }, 240_000);
});
