import { mkdtempSync, rmSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defaultRunConfig, type RunConfigInput } from "@azr/azr";
import type { Database } from "@azr/db";
import { createTestDatabase, testBackends, type TestDatabase } from "@azr/db/testing";
import { BwrapBackend, ExecutorPool } from "@azr/executor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckpointStore } from "./checkpoints.ts";
import { executeRunAttempt, type WorkerFactory } from "./run-attempt.ts";
import { transitionRun } from "./run-lifecycle.ts";
import { recordedWorkerSession } from "./testing/recorded-policy.ts";

let pool: ExecutorPool;
beforeAll(async () => {
  pool = await new ExecutorPool(new BwrapBackend(), { runners: 2 }).start();
});
afterAll(async () => {
  await pool?.close();
});

function config(overrides: RunConfigInput["schedule"]) {
  const c = defaultRunConfig("tiny-cpu");
  return { ...c, schedule: { ...c.schedule, ...overrides } };
}

describe.each(testBackends)("a run attempt end to end with the recorded-responses policy (%s)", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  let ownerId: string;
  let root: string;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await tdb.open();
    ownerId = (await db.prisma.user.create({ data: { name: "owner" } })).id;
    root = mkdtempSync(path.join(tmpdir(), "azr-ckpt-"));
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
    rmSync(root, { recursive: true, force: true });
  });
  const newRun = (cfg: ReturnType<typeof config>) =>
    db.prisma.run.create({
      data: { name: "t", ownerId, config: cfg as object, seed: BigInt(cfg.seed), poolName: "local", modelName: "tiny", totalSteps: cfg.schedule.totalSteps },
    });
  const noCancel = { signal: new AbortController().signal, stopRequested: () => undefined };

  it("completes its steps with metrics, rollouts, growing buffers and checkpoints recorded", async () => {
    const cfg = config({ totalSteps: 3, checkpointInterval: 2 });
    const run = await newRun(cfg);
    const session = recordedWorkerSession();
    const checkpoints = new CheckpointStore(db.prisma, { root, keepLast: 5 });
    const progress: number[] = [];
    const end = await executeRunAttempt(
      { prisma: db.prisma, checkpoints, executor: pool, workers: (async () => session) as WorkerFactory, onStep: (p) => progress.push(p.step) },
      run.id,
      noCancel,
    );
    expect(end).toBe("completed");
    expect(progress).toEqual([1, 2, 3]);
    const after = await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(after).toMatchObject({ status: "completed", currentStep: 3 });
    expect(await db.prisma.step.count({ where: { runId: run.id } })).toBe(3);

    const proposals = await db.prisma.rollout.findMany({ where: { runId: run.id, role: "propose" } });
    expect(proposals.length).toBe(3 * 3 * cfg.azr.batchSize);
    expect(proposals.filter((p) => p.valid).length).toBeGreaterThan(10);
    expect(proposals.some((p) => !p.valid && p.invalidReason?.startsWith("banned-import"))).toBe(true);
    const rewards = new Set(proposals.map((p) => p.reward));
    expect(rewards.size).toBeGreaterThan(1);

    const bySource = await db.prisma.bufferEntry.groupBy({ by: ["origin"], where: { runId: run.id }, _count: true });
    expect(bySource.find((b) => b.origin === "seed")?._count).toBe(3);
    expect(bySource.find((b) => b.origin === "proposed")?._count).toBeGreaterThan(5);

    const validRate = await db.prisma.metricSeries.findUniqueOrThrow({ where: { runId_key: { runId: run.id, key: "propose/deduction/valid_rate" } }, include: { points: true } });
    expect(validRate.points.map((p) => p.step).sort()).toEqual([1, 2, 3]);
    expect(validRate.count).toBe(3);
    const bufferSize = await db.prisma.metricSeries.findUniqueOrThrow({ where: { runId_key: { runId: run.id, key: "buffer/deduction" } }, include: { points: { orderBy: { step: "asc" } } } });
    const sizes = bufferSize.points.map((p) => p.value);
    expect(sizes[2]!).toBeGreaterThan(sizes[0]!);

    const ckpts = await db.prisma.checkpoint.findMany({ where: { runId: run.id }, orderBy: { step: "asc" } });
    expect(ckpts.map((c) => c.step)).toEqual([2, 3]);
    expect(existsSync(path.join(ckpts[1]!.location, "control.json"))).toBe(true);
    const transitions = await db.prisma.runEvent.findMany({ where: { runId: run.id, kind: "transition" }, orderBy: { id: "asc" } });
    expect(after.reproducibility).toMatchObject({ codeVersion: expect.any(String), controlPlane: { node: process.version } });
    expect(transitions.map((t) => t.toStatus)).toEqual(["provisioning", "running", "checkpointing", "running", "checkpointing", "running", "completed"]);
  });

  it("relaunches a lost worker from the last checkpoint and records each step exactly once", async () => {
    const cfg = config({ totalSteps: 4, checkpointInterval: 2 });
    const run = await newRun(cfg);
    const checkpoints = new CheckpointStore(db.prisma, { root, keepLast: 5 });
    const sessions = [recordedWorkerSession(undefined, { failOnStep: 4 }), recordedWorkerSession()];
    let launches = 0;
    const workers = (async () => sessions[launches++]!) as WorkerFactory;
    expect(await executeRunAttempt({ prisma: db.prisma, checkpoints, executor: pool, workers }, run.id, noCancel)).toBe("completed");
    expect(launches).toBe(2);
    expect(sessions[1]!.loaded[0]).toMatch(/step-2\/model$/);
    const steps = await db.prisma.step.findMany({ where: { runId: run.id }, orderBy: { index: "asc" } });
    expect(steps.map((s) => s.index)).toEqual([1, 2, 3, 4]);
    // Step 3 ran twice (before the loss and after the relaunch); only the second run is recorded.
    const proposalsPerStep = await db.prisma.rollout.groupBy({ by: ["step"], where: { runId: run.id, role: "propose" }, _count: true, orderBy: { step: "asc" } });
    expect(proposalsPerStep.map((r) => [r.step, r._count])).toEqual([1, 2, 3, 4].map((s) => [s, 3 * cfg.azr.batchSize]));
    const points = await db.prisma.metricPoint.findMany({ where: { series: { runId: run.id, key: "buffer/abduction" } }, orderBy: { step: "asc" } });
    expect(points.map((p) => p.step)).toEqual([1, 2, 3, 4]);
    expect(readdirSync(checkpoints.runDir(run.id)).sort()).toEqual(["step-2", "step-4"]);
    const relaunch = await db.prisma.runEvent.findFirstOrThrow({ where: { runId: run.id, toStatus: "provisioning", fromStatus: "running" } });
    expect(relaunch.message).toContain("worker lost (worker exited (137): killed); relaunching from the last checkpoint (1/2)");
  });

  it("fails with the reason after bounded relaunches, and a user's resume then completes the run", async () => {
    const cfg = config({ totalSteps: 3, checkpointInterval: 1 });
    const run = await newRun(cfg);
    const checkpoints = new CheckpointStore(db.prisma, { root, keepLast: 5 });
    let launches = 0;
    const dying = (async () => (launches++, recordedWorkerSession(undefined, { failOnStep: 1 }))) as WorkerFactory;
    expect(await executeRunAttempt({ prisma: db.prisma, checkpoints, executor: pool, workers: dying, maxRelaunches: 2 }, run.id, noCancel)).toBe("failed");
    expect(launches).toBe(3);
    const failed = await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(failed).toMatchObject({ status: "failed", failureReason: "worker lost 3 times; last: worker exited (137): killed" });

    await transitionRun(db.prisma, { runId: run.id, to: "queued", actor: "user:owner", reason: "resume" });
    const healthy = (async () => recordedWorkerSession()) as WorkerFactory;
    expect(await executeRunAttempt({ prisma: db.prisma, checkpoints, executor: pool, workers: healthy }, run.id, noCancel)).toBe("completed");
    expect(await db.prisma.step.count({ where: { runId: run.id } })).toBe(3);
  });

  it("forks a new linked run from a checkpoint with a changed config", async () => {
    const cfg = config({ totalSteps: 2, checkpointInterval: 1 });
    const parent = await newRun(cfg);
    const checkpoints = new CheckpointStore(db.prisma, { root, keepLast: 5 });
    const healthy = (async () => recordedWorkerSession()) as WorkerFactory;
    expect(await executeRunAttempt({ prisma: db.prisma, checkpoints, executor: pool, workers: healthy }, parent.id, noCancel)).toBe("completed");
    const from = await db.prisma.checkpoint.findUniqueOrThrow({ where: { runId_step: { runId: parent.id, step: 1 } } });

    const forkCfg = { ...config({ totalSteps: 3, checkpointInterval: 1 }), azr: { ...cfg.azr, rewardMode: "reference" as const } };
    const fork = await db.prisma.run.create({
      data: {
        name: "fork", ownerId, config: forkCfg as object, seed: 0n, poolName: "local", modelName: "tiny", totalSteps: 3,
        parentRunId: parent.id, parentCheckpointId: from.id,
      },
    });
    const session = recordedWorkerSession();
    expect(await executeRunAttempt({ prisma: db.prisma, checkpoints, executor: pool, workers: (async () => session) as WorkerFactory }, fork.id, noCancel)).toBe("completed");
    expect(session.loaded[0]).toBe(`${from.location}/model`);
    // The fork continues after the parent's step 1: it records steps 2 and 3 as its own.
    expect((await db.prisma.step.findMany({ where: { runId: fork.id }, orderBy: { index: "asc" } })).map((s) => s.index)).toEqual([2, 3]);
    const inherited = await db.prisma.bufferEntry.count({ where: { runId: fork.id, origin: { in: ["seed", "imported"] } } });
    const parentAtStep1 = await db.prisma.bufferEntry.count({ where: { runId: parent.id, stepAdded: { lte: 1 } } });
    expect(inherited).toBe(parentAtStep1);
    const started = await db.prisma.runEvent.findFirstOrThrow({ where: { runId: fork.id, toStatus: "running" } });
    expect(started.message).toBe(`forked from run ${parent.id} at step 1`);
    // The parent is untouched.
    expect(await db.prisma.step.count({ where: { runId: parent.id } })).toBe(2);
  });

  it("stops within moments when cancelled mid-step", async () => {
    const cfg = config({ totalSteps: 50, checkpointInterval: 10 });
    const run = await newRun(cfg);
    const checkpoints = new CheckpointStore(db.prisma, { root, keepLast: 5 });
    const abort = new AbortController();
    const session = recordedWorkerSession();
    const started = Date.now();
    const done = executeRunAttempt(
      {
        prisma: db.prisma,
        checkpoints,
        executor: pool,
        workers: (async () => session) as WorkerFactory,
        onStep: (p) => {
          if (p.step === 2) void transitionRun(db.prisma, { runId: run.id, to: "cancelled", actor: "user:owner", reason: "cancel" }).then(() => abort.abort());
        },
      },
      run.id,
      { signal: abort.signal, stopRequested: () => undefined },
    );
    expect(await done).toBe("cancelled");
    expect(Date.now() - started).toBeLessThan(60_000);
    const after = await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(after.status).toBe("cancelled");
    expect(after.currentStep).toBeLessThan(50);
  });
});
