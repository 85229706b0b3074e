import { mkdirSync, mkdtempSync, rmSync, existsSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defaultRunConfig, parseRunConfig, type RunConfig, type RunConfigInput } from "@azr/azr";
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

describe.each(testBackends)("seed buffers of a fresh run: the seeding stage and imports (%s)", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  let ownerId: string;
  let root: string;
  let seedsRoot: string;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await tdb.open();
    ownerId = (await db.prisma.user.create({ data: { name: "owner" } })).id;
    root = mkdtempSync(path.join(tmpdir(), "azr-ckpt-"));
    seedsRoot = mkdtempSync(path.join(tmpdir(), "azr-seeds-"));
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
    rmSync(root, { recursive: true, force: true });
    rmSync(seedsRoot, { recursive: true, force: true });
  });
  const seededConfig = (azr: RunConfigInput["azr"], schedule: RunConfigInput["schedule"]) => {
    const c = defaultRunConfig("tiny-cpu");
    const r = parseRunConfig({ ...c, azr: { ...c.azr, ...azr }, schedule: { ...c.schedule, ...schedule } });
    if (!r.ok) throw new Error(r.errors.join("; "));
    return r.config;
  };
  const newRun = (cfg: RunConfig) =>
    db.prisma.run.create({
      data: { name: "t", ownerId, config: cfg as object, seed: BigInt(cfg.seed), poolName: "local", modelName: "tiny", totalSteps: cfg.schedule.totalSteps },
    });
  const noCancel = { signal: new AbortController().signal, stopRequested: () => undefined };
  const seedRows = async (runId: string) =>
    (await db.prisma.bufferEntry.groupBy({ by: ["taskType", "origin", "stepAdded"], where: { runId }, _count: true }))
      .map((g) => [g.taskType, g.origin, g.stepAdded, g._count])
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  /** The recorded session, noting each generate call's tag and, at the first trained one (step
   * 1's proposals), the run's buffer rows at that moment. */
  const watched = (runId: string, session = recordedWorkerSession()) => {
    const tags: string[] = [];
    let atStepOne: unknown[][] | undefined;
    const generate = session.policy.generate.bind(session.policy);
    session.policy.generate = async (b) => {
      tags.push(b.tag);
      if (b.store && atStepOne === undefined) atStepOne = await seedRows(runId);
      return generate(b);
    };
    return { session, tags, atStepOne: () => atStepOne };
  };

  it("seeds batchSize × seedBatchFactor triplets and induction tasks with the policy before step 1; a resume does not seed again", async () => {
    const cfg = seededConfig({ seedSource: "generate" }, { totalSteps: 2, checkpointInterval: 1 });
    const target = cfg.azr.batchSize * cfg.azr.seedBatchFactor;
    expect(target).toBe(16);
    const run = await newRun(cfg);
    const checkpoints = new CheckpointStore(db.prisma, { root, keepLast: 5 });
    const first = watched(run.id);
    const rounds: string[] = [];
    let steps = 0;
    const end = await executeRunAttempt(
      {
        prisma: db.prisma,
        checkpoints,
        executor: pool,
        workers: (async () => first.session) as WorkerFactory,
        onSeeding: (p) => rounds.push(`${p.round.part}:${p.round.size}`),
        onStep: () => steps++,
      },
      run.id,
      { signal: new AbortController().signal, stopRequested: () => (steps >= 1 ? "paused by the test" : undefined) },
    );
    expect(end).toBe("paused");
    // Through the run's own worker: seeding batches first, then step 1 (propose, learnability, solve).
    const seedingCalls = first.tags.indexOf("train");
    expect(seedingCalls).toBeGreaterThanOrEqual(2);
    expect(first.tags.slice(0, seedingCalls).every((t) => t === "seeding")).toBe(true);
    expect(rounds.at(-1)).toBe(`induction:${target}`);
    expect(rounds.filter((r) => r.startsWith("triplets")).at(-1)).toBe(`triplets:${target}`);
    // Every seed was in the database before step 1 generated anything.
    expect(first.atStepOne()).toEqual([
      ["abduction", "seed", 0, target],
      ["deduction", "seed", 0, target],
      ["induction", "seed", 0, target],
    ]);
    const seeds = await db.prisma.bufferEntry.findMany({ where: { runId: run.id, stepAdded: 0 }, orderBy: { id: "asc" } });
    expect(new Set(seeds.filter((s) => s.taskType === "deduction").map((s) => s.program)).size).toBeGreaterThan(3);
    const figures = await db.prisma.metricSeries.findMany({ where: { runId: run.id, key: { startsWith: "seeding/" } }, include: { points: true } });
    const byKey = Object.fromEntries(figures.map((f) => [f.key, f.points.map((p) => [p.step, p.value])]));
    expect(byKey["seeding/triplets"]).toEqual([[0, target]]);
    expect(byKey["seeding/induction"]).toEqual([[0, target]]);
    expect(byKey["seeding/triplet_valid_rate"]![0]![1]).toBeGreaterThan(0.5);
    const events = await db.prisma.runEvent.findMany({ where: { runId: run.id, kind: "log", message: { startsWith: "seed" } }, orderBy: { id: "asc" } });
    expect(events[0]!.message).toMatch(/^seeding triplet round 1\/50: \d+\/4 proposals valid, \d+ new; \d+\/16 triplet seeds$/);
    expect(events.at(-1)!.message).toMatch(/^seeded the buffers with the policy: 16\/16 triplet seeds in \d+ rounds/);
    const running = await db.prisma.runEvent.findFirstOrThrow({ where: { runId: run.id, toStatus: "running" }, orderBy: { id: "asc" } });
    expect(running.message).toBe("worker ready; seeding the buffers with the policy");

    // Resume from the step-1 checkpoint: no seeding, the seed rows are the same rows.
    await transitionRun(db.prisma, { runId: run.id, to: "queued", actor: "user:owner", reason: "resume" });
    const second = watched(run.id);
    expect(await executeRunAttempt({ prisma: db.prisma, checkpoints, executor: pool, workers: (async () => second.session) as WorkerFactory }, run.id, noCancel)).toBe("completed");
    expect(second.tags).not.toContain("seeding");
    expect((await db.prisma.bufferEntry.findMany({ where: { runId: run.id, stepAdded: 0 }, orderBy: { id: "asc" } })).map((s) => s.id)).toEqual(seeds.map((s) => s.id));
    expect(await db.prisma.runEvent.count({ where: { runId: run.id, message: { startsWith: "seeded the buffers" } } })).toBe(1);
    expect((await db.prisma.step.findMany({ where: { runId: run.id }, orderBy: { index: "asc" } })).map((s) => s.index)).toEqual([1, 2]);
  });

  it("a worker lost mid-seeding is relaunched and seeds again from scratch, never leaving half-seeded buffers", async () => {
    const cfg = seededConfig({ seedSource: "generate" }, { totalSteps: 1, checkpointInterval: 1 });
    const run = await newRun(cfg);
    const checkpoints = new CheckpointStore(db.prisma, { root, keepLast: 5 });
    let rowsWhenRelaunched: number | undefined;
    let launches = 0;
    const workers = (async () => {
      if (launches++ === 0) return recordedWorkerSession(undefined, { failOnGenerate: 3 });
      rowsWhenRelaunched = await db.prisma.bufferEntry.count({ where: { runId: run.id } });
      return recordedWorkerSession();
    }) as WorkerFactory;
    expect(await executeRunAttempt({ prisma: db.prisma, checkpoints, executor: pool, workers }, run.id, noCancel)).toBe("completed");
    expect(launches).toBe(2);
    expect(rowsWhenRelaunched).toBe(0);
    expect(await seedRows(run.id)).toEqual([
      ["abduction", "proposed", 1, expect.any(Number)],
      ["abduction", "seed", 0, 16],
      ["deduction", "proposed", 1, expect.any(Number)],
      ["deduction", "seed", 0, 16],
      ["induction", "proposed", 1, expect.any(Number)],
      ["induction", "seed", 0, 16],
    ]);
    const roundOnes = await db.prisma.runEvent.count({ where: { runId: run.id, message: { startsWith: "seeding triplet round 1/" } } });
    expect(roundOnes).toBe(2);
    const lost = await db.prisma.runEvent.findFirstOrThrow({ where: { runId: run.id, toStatus: "provisioning", fromStatus: "running" } });
    expect(lost.message).toContain("worker lost (worker exited (137): killed)");
    const series = await db.prisma.metricSeries.findUniqueOrThrow({ where: { runId_key: { runId: run.id, key: "seeding/triplets" } }, include: { points: true } });
    expect(series.points.map((p) => [p.step, p.value])).toEqual([[0, 16]]);
    expect(series.count).toBe(1);
  });

  it("seeding that cannot reach its target within seedMaxRounds fails the run with the figures and writes no buffer rows", async () => {
    const cfg = seededConfig({ seedSource: "generate", seedMaxRounds: 2 }, { totalSteps: 1 });
    const run = await newRun(cfg);
    const session = recordedWorkerSession();
    // A policy that never writes a well-formed proposal.
    session.policy.generate = async (b) => b.prompts.map(() => [{ text: " I am not sure", rolloutId: null, promptTokens: 1, completionTokens: 4, finishReason: "stop" as const }]);
    const checkpoints = new CheckpointStore(db.prisma, { root, keepLast: 5 });
    expect(await executeRunAttempt({ prisma: db.prisma, checkpoints, executor: pool, workers: (async () => session) as WorkerFactory }, run.id, noCancel)).toBe("failed");
    const failed = await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(failed.failureReason).toBe(
      "seeding stopped after 2 proposer batches per part short of its target: 1/16 triplet seeds in 2 rounds (0/8 proposals valid), 1/16 induction seeds in 2 rounds (0/8 valid); " +
        "raise azr.seedMaxRounds, or start from azr.seedSource 'identity' or 'import'",
    );
    expect(await db.prisma.bufferEntry.count({ where: { runId: run.id } })).toBe(0);
    expect(await db.prisma.step.count({ where: { runId: run.id } })).toBe(0);
  });

  const tripletRow = (snippet: string, input: string, output: string) => JSON.stringify({ snippet, input, output, imports: [], original_snippet: snippet, composite_functions: [] });
  const inductionRow = (snippet: string, inputs: string[], outputs: string[], message: string) => JSON.stringify({ snippet, inputs, outputs, message, imports: [] });

  it("imports seed files in the reference's JSONL formats as 'imported' entries that step 1 draws from", async () => {
    const doubled = "def f(xs):\n    return [x * 2 for x in xs]";
    const upper = "def f(s):\n    return s.upper()";
    mkdirSync(path.join(seedsRoot, "qwen"), { recursive: true });
    writeFileSync(
      path.join(seedsRoot, "qwen", "seed_io.jsonl"),
      [tripletRow(doubled, "[1, 2]", "[2, 4]"), tripletRow(upper, "'ab'", "'AB'"), tripletRow(upper, "'ab'", "'AB'"), ""].join("\n"),
    );
    const inductionJsonl = inductionRow(upper, ["'a'", "'b'", "'c'", "'d'"], ["'A'", "'B'", "'C'", "'D'"], "Make it loud.");
    const cfg = seededConfig({ seedSource: "import", seedTripletsFile: "qwen/seed_io.jsonl", seedInductionJsonl: inductionJsonl }, { totalSteps: 1, checkpointInterval: 1 });
    const run = await newRun(cfg);
    const checkpoints = new CheckpointStore(db.prisma, { root, keepLast: 5 });
    const w = watched(run.id);
    expect(await executeRunAttempt({ prisma: db.prisma, checkpoints, executor: pool, seedsRoot, workers: (async () => w.session) as WorkerFactory }, run.id, noCancel)).toBe("completed");
    expect(w.atStepOne()).toEqual([
      ["abduction", "imported", 0, 2],
      ["deduction", "imported", 0, 2],
      ["induction", "imported", 0, 1],
    ]);
    const programs = await db.prisma.bufferEntry.findMany({ where: { runId: run.id, taskType: "deduction", stepAdded: 0 }, orderBy: { id: "asc" } });
    expect(programs.map((p) => [p.program, p.input, p.output])).toEqual([
      [doubled, "[1, 2]", "[2, 4]"],
      [upper, "'ab'", "'AB'"],
    ]);
    // Step 1's solver tasks are the seeds: the imported programs are in its prompts.
    const solves = await db.prisma.rollout.findMany({ where: { runId: run.id, step: 1, role: "solve" }, select: { prompt: true } });
    expect(solves.some((s) => s.prompt.includes("return [x * 2 for x in xs]"))).toBe(true);
    expect(solves.some((s) => s.prompt.includes("Make it loud."))).toBe(true);
    const event = await db.prisma.runEvent.findFirstOrThrow({ where: { runId: run.id, message: { startsWith: "imported" } } });
    expect(event.message).toBe(
      "imported 2 triplet seeds from seed file qwen/seed_io.jsonl (3 rows; 1 exact duplicates or beyond maxPrograms dropped) and 1 induction seeds from azr.seedInductionJsonl (1 rows)",
    );
    const sizes = await db.prisma.metricSeries.findMany({ where: { runId: run.id, key: { startsWith: "seeding/" } }, include: { points: true }, orderBy: { key: "asc" } });
    expect(sizes.map((s) => [s.key, s.points[0]!.value])).toEqual([["seeding/induction", 1], ["seeding/triplets", 2]]);
  });

  it("a malformed, missing or escaping seed file fails the run naming the file and line, before a worker starts or a row is written", async () => {
    writeFileSync(path.join(seedsRoot, "bad_seed_io.jsonl"), [tripletRow("def f(a):\n    return a", "1", "1"), '{"snippet": "def f(a):', tripletRow("def f(a):\n    return a", "2", "f(2)")].join("\n"));
    symlinkSync("/etc/hostname", path.join(seedsRoot, "escape.jsonl"));
    const cases: [string, string | RegExp][] = [
      ["bad_seed_io.jsonl", /^seed file bad_seed_io\.jsonl: line 2: invalid JSON \(.+\); line 3: output: not a Python literal \(.+\)$/],
      ["nope/missing.jsonl", `seed file nope/missing.jsonl: no such file in the seed directory ${seedsRoot}`],
      ["escape.jsonl", /^seed file escape\.jsonl: resolves to \/etc\/hostname, outside the seed directory /],
    ];
    for (const [file, reason] of cases) {
      const run = await newRun(seededConfig({ seedSource: "import", seedTripletsFile: file }, { totalSteps: 1 }));
      let launched = 0;
      const workers = (async () => (launched++, recordedWorkerSession())) as WorkerFactory;
      const checkpoints = new CheckpointStore(db.prisma, { root, keepLast: 5 });
      expect(await executeRunAttempt({ prisma: db.prisma, checkpoints, executor: pool, seedsRoot, workers }, run.id, noCancel)).toBe("failed");
      const failed = await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
      expect(failed.status).toBe("failed");
      expect(failed.failureReason).toMatch(reason);
      expect(launched).toBe(0);
      expect(await db.prisma.bufferEntry.count({ where: { runId: run.id } })).toBe(0);
    }
  });
});
