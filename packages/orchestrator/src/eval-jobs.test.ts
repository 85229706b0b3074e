import { randomUUID } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Database, EvalProblemResult, EvalResult } from "@azr/db";
import { createTestDatabase, type TestDatabase } from "@azr/db/testing";
import { DEMO_TINY_CONFIG, demoRunConfig, ensureDemoPolicy } from "@azr/demo";
import { buildPrompt, loadProblems, SAMPLE_STATUSES } from "@azr/eval";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminConfigSchema, type AdminConfig } from "./admin-config.ts";
import { evalSettings, type EvalProgress } from "./eval-jobs.ts";
import type { StoredSample } from "./eval-store.ts";
import { startRuntime, type Runtime } from "./runtime.ts";

// Eval jobs end to end, as the server runs them: the runtime's queue and local launcher start the
// real tiny worker serving the committed demo policy, which answers the shipped fixture
// benchmarks with greedy decoding; the answers are scored in the real bwrap sandbox (math in the
// runtime's sympy scoring pool) and stored per problem.

const FINISHED = new Set(["completed", "failed", "cancelled"]);

describe("eval jobs with the real tiny worker (demo policy) and the bwrap executor", () => {
  let tdb: TestDatabase;
  let db: Database;
  let runtime: Runtime;
  let dataDir: string;
  let admin: AdminConfig;
  let ownerId: string;
  const progress: EvalProgress[] = [];

  const start = () => startRuntime({ db, dataDir, admin, executorRunners: 2, onEvalProgress: (p) => progress.push(p) });

  beforeAll(async () => {
    tdb = await createTestDatabase("pglite");
    db = await tdb.open();
    dataDir = mkdtempSync(path.join(tmpdir(), "azr-eval-jobs-"));
    const policy = ensureDemoPolicy(dataDir);
    admin = adminConfigSchema.parse({
      pools: [{ name: "local", launcher: "local", concurrency: 1 }],
      models: { "tiny-demo": { backend: "tiny", source: { kind: "directory", path: policy.checkpoint }, tiny: { ...DEMO_TINY_CONFIG } } },
    });
    ownerId = (await db.prisma.user.create({ data: { name: "evaluator" } })).id;
    runtime = await start();
  });
  afterAll(async () => {
    await runtime?.close();
    await db?.close();
    await tdb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Writes a job's queued evaluations the way evals.start does and queues it. */
  async function queueJob(o: { benchmarks: string[]; overrides?: Record<string, unknown>; template: "azr" | "base"; runId?: string; checkpointId?: string; step?: number }) {
    const jobId = randomUUID();
    for (const name of o.benchmarks) {
      const def = runtime.benchmarks.resolve(name, o.overrides ?? {});
      await db.prisma.evalResult.create({
        data: {
          jobId,
          runId: o.runId ?? null,
          checkpointId: o.checkpointId ?? null,
          step: o.step ?? null,
          modelName: "tiny-demo",
          benchmark: name,
          poolName: "local",
          createdById: ownerId,
          settings: evalSettings(def, o.template, o.overrides ?? {}) as object,
        },
      });
    }
    return jobId;
  }

  async function jobEnd(jobId: string, ms = 240_000): Promise<EvalResult[]> {
    const t0 = Date.now();
    for (;;) {
      const rows = await db.prisma.evalResult.findMany({ where: { jobId }, orderBy: { createdAt: "asc" } });
      if (rows.every((r) => FINISHED.has(r.status))) return rows;
      if (Date.now() - t0 > ms) throw new Error(`job still ${rows.map((r) => r.status).join(", ")} after ${ms / 1000} s`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** The stored results agree with themselves and with the scores: one row per problem, counts
   * equal to the correct samples, pass@1 the mean of correct/n, solved the problems with one. */
  function expectConsistent(row: EvalResult, problems: EvalProblemResult[], expectedProblems: number) {
    expect(row.status).toBe("completed");
    expect(row.error).toBeNull();
    const scores = row.scores as Record<string, number>;
    expect(problems).toHaveLength(expectedProblems);
    expect(row).toMatchObject({ problemsTotal: expectedProblems, problemsDone: expectedProblems });
    expect(scores.total).toBe(expectedProblems);
    for (const p of problems) {
      const samples = p.samples as unknown as StoredSample[];
      expect(samples).toHaveLength(p.n);
      expect(p.n).toBe(1); // greedy: one answer per problem
      expect(p.correct).toBe(samples.filter((s) => s.correct).length);
      expect(p.solved).toBe(p.correct > 0);
      for (const s of samples) {
        expect(typeof s.completion).toBe("string");
        expect(SAMPLE_STATUSES).toContain(s.status);
        expect(s.correct).toBe(s.status === "pass");
      }
    }
    expect(scores["pass@1"]).toBeCloseTo(problems.reduce((a, p) => a + p.correct / p.n, 0) / problems.length, 12);
    expect(scores.solved).toBe(problems.filter((p) => p.solved).length);
  }

  const problemsOf = (evalId: string) => db.prisma.evalProblemResult.findMany({ where: { evalId }, orderBy: { index: "asc" } });

  it("evaluates a catalogue model on code, math and io fixtures: per-problem results and scores stored, queued → running → completed", async () => {
    const overrides = { decoding: { maxTokens: 48 } };
    const jobId = await queueJob({ benchmarks: ["fixture-math", "fixture-cruxeval-o", "fixture-humaneval-plus"], overrides, template: "base" });
    await runtime.orchestrator.submitEvalJob(jobId);
    const rows = await jobEnd(jobId);
    for (const row of rows) {
      const def = runtime.benchmarks.resolve(row.benchmark, overrides);
      const fixture = await loadProblems(def);
      const problems = await problemsOf(row.id);
      expectConsistent(row, problems, fixture.length);
      // What the model saw: the benchmark's base-model template, problem by problem, in file order.
      expect(problems.map((p) => p.problemId)).toEqual(fixture.map((p) => p.id));
      expect(problems.map((p) => p.prompt)).toEqual(fixture.map((p) => buildPrompt(def, p, "base")));
      expect(row.settings).toMatchObject({ template: "base", definition: { name: row.benchmark, decoding: { temperature: 0, maxTokens: 48, n: 1 } } });
      expect(row.startedAt).not.toBeNull();
      expect(row.finishedAt!.getTime()).toBeGreaterThanOrEqual(row.startedAt!.getTime());
      // Status changes and progress were reported, ending with completion.
      const mine = progress.filter((p) => p.evalId === row.id);
      expect(mine[0]).toMatchObject({ status: "running", jobId });
      expect(mine.some((p) => p.status === "running" && p.total === fixture.length && p.done > 0)).toBe(true);
      expect(mine.at(-1)).toMatchObject({ status: "completed", done: fixture.length, total: fixture.length });
    }
    // The math fixture was scored in the sympy scoring pool: answers were judged, not refused.
    const math = await problemsOf(rows[0]!.id);
    expect(math.flatMap((p) => p.samples as unknown as StoredSample[]).every((s) => s.status !== "sandbox-failure")).toBe(true);
    expect(runtime.orchestrator.activeEvalJobIds()).toEqual([]);
  }, 300_000);

  it("evaluates a run's checkpoint: the worker restores its weights; greedy answers are reproducible", async () => {
    const run = await db.prisma.run.create({
      data: { name: "trained", ownerId, status: "completed", config: demoRunConfig() as object, seed: 0n, poolName: "local", modelName: "tiny-demo", totalSteps: 3, currentStep: 3 },
    });
    // A checkpoint of step 3 whose weights are the demo policy's.
    const location = path.join(runtime.checkpoints.runDir(run.id), "step-3");
    mkdirSync(location, { recursive: true });
    cpSync(ensureDemoPolicy(dataDir).dir, path.join(location, "model"), { recursive: true });
    const checkpoint = await db.prisma.checkpoint.create({ data: { runId: run.id, step: 3, location, contents: {}, sizeBytes: 1n } });
    // The first test's settings, so the batches match too.
    const overrides = { decoding: { maxTokens: 48 } };
    const jobId = await queueJob({ benchmarks: ["fixture-cruxeval-o"], overrides, template: "base", runId: run.id, checkpointId: checkpoint.id, step: 3 });
    await runtime.orchestrator.submitEvalJob(jobId);
    const [row] = await jobEnd(jobId);
    const problems = await problemsOf(row!.id);
    expectConsistent(row!, problems, (await loadProblems(runtime.benchmarks.resolve("fixture-cruxeval-o"))).length);
    expect(row).toMatchObject({ runId: run.id, checkpointId: checkpoint.id, step: 3, modelName: "tiny-demo" });
    // Same weights, same prompts, greedy decoding: the catalogue model's answers, word for word.
    const earlier = await db.prisma.evalResult.findFirstOrThrow({ where: { benchmark: "fixture-cruxeval-o", runId: null, status: "completed" } });
    const before = await problemsOf(earlier.id);
    expect(problems.map((p) => (p.samples as unknown as StoredSample[])[0]!.completion)).toEqual(before.map((p) => (p.samples as unknown as StoredSample[])[0]!.completion));
  }, 300_000);

  it("cancels a running evaluation at once, keeps none of its results, and goes on with the job's next benchmark", async () => {
    const jobId = await queueJob({ benchmarks: ["fixture-humaneval-plus", "fixture-math"], overrides: { decoding: { maxTokens: 700 }, limit: 8 }, template: "base" });
    await runtime.orchestrator.submitEvalJob(jobId);
    const first = await db.prisma.evalResult.findFirstOrThrow({ where: { jobId, benchmark: "fixture-humaneval-plus" } });
    for (let i = 0; i < 600; i++) {
      if ((await db.prisma.evalResult.findUniqueOrThrow({ where: { id: first.id } })).status === "running") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await runtime.orchestrator.cancelEval(first.id, "user:evaluator", "wrong settings");
    const rows = await jobEnd(jobId, 400_000);
    expect(rows.map((r) => [r.benchmark, r.status])).toEqual([
      ["fixture-humaneval-plus", "cancelled"],
      ["fixture-math", "completed"],
    ]);
    expect(rows[0]!.error).toBe("wrong settings (user:evaluator)");
    expect(await db.prisma.evalProblemResult.count({ where: { evalId: first.id } })).toBe(0);
    await expect(runtime.orchestrator.cancelEval(first.id, "user:evaluator")).rejects.toThrow(`evaluation ${first.id} is cancelled; it cannot become cancelled`);
  }, 500_000);

  it("fails an evaluation whose checkpoint was deleted before it started, saying so, without a worker", async () => {
    const run = await db.prisma.run.create({ data: { name: "pruned", ownerId, status: "completed", config: {}, seed: 0n, poolName: "local", modelName: "tiny-demo", totalSteps: 2 } });
    const checkpoint = await db.prisma.checkpoint.create({ data: { runId: run.id, step: 2, location: "/nowhere", contents: {}, sizeBytes: 1n, deletedAt: new Date() } });
    const jobId = await queueJob({ benchmarks: ["fixture-math"], template: "azr", runId: run.id, checkpointId: checkpoint.id, step: 2 });
    await runtime.orchestrator.submitEvalJob(jobId);
    const [row] = await jobEnd(jobId, 30_000);
    expect(row).toMatchObject({ status: "failed", error: `the checkpoint of step 2 of run ${run.id} was deleted before the evaluation started` });
  });

  it("a server stopped mid-evaluation queues it again at the next start, and it runs to completion", async () => {
    const jobId = await queueJob({ benchmarks: ["fixture-cruxeval-i"], overrides: { decoding: { maxTokens: 32 }, limit: 3 }, template: "base" });
    await runtime.close();
    // What a killed server leaves: the evaluation running, with partial progress.
    await db.prisma.evalResult.updateMany({ where: { jobId }, data: { status: "running", startedAt: new Date(), problemsDone: 1, problemsTotal: 3 } });
    runtime = await start();
    const [row] = await jobEnd(jobId);
    expectConsistent(row!, await problemsOf(row!.id), 3);
  }, 300_000);

  it("evaluates during training: eval.every=1 records eval/<benchmark>/* metrics and periodic evaluations linked to the step's checkpoint", async () => {
    const config = demoRunConfig({
      schedule: { totalSteps: 2, checkpointInterval: 2 },
      sampling: { maxResponseLength: 48 },
      optim: { lr: 1e-5 },
      model: { name: "tiny-demo" },
      eval: { every: 1, benchmarks: ["fixture-math", "fixture-cruxeval-o", "humaneval-plus"], limit: 3, maxTokens: 32 },
    });
    const run = await db.prisma.run.create({ data: { name: "periodic", ownerId, config: config as object, seed: 0n, poolName: "local", modelName: "tiny-demo", totalSteps: 2 } });
    await runtime.orchestrator.submit(run.id);
    const t0 = Date.now();
    let ended;
    for (;;) {
      ended = await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
      if (ended.status === "completed" || ended.status === "failed") break;
      if (Date.now() - t0 > 400_000) throw new Error(`run still ${ended.status}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(ended.failureReason).toBeNull();
    expect(ended.status).toBe("completed");
    const evals = await db.prisma.evalResult.findMany({ where: { runId: run.id }, orderBy: [{ step: "asc" }, { createdAt: "asc" }] });
    expect(evals.map((e) => [e.step, e.benchmark, e.origin, e.status])).toEqual([
      [1, "fixture-math", "periodic", "completed"],
      [1, "fixture-cruxeval-o", "periodic", "completed"],
      [1, "humaneval-plus", "periodic", "failed"],
      [2, "fixture-math", "periodic", "completed"],
      [2, "fixture-cruxeval-o", "periodic", "completed"],
      [2, "humaneval-plus", "periodic", "failed"],
    ]);
    // Step 2 has a checkpoint (interval 2), step 1 none.
    const checkpoint = await db.prisma.checkpoint.findUniqueOrThrow({ where: { runId_step: { runId: run.id, step: 2 } } });
    expect(evals.filter((e) => e.step === 2).map((e) => e.checkpointId)).toEqual([checkpoint.id, checkpoint.id, checkpoint.id]);
    expect(evals.filter((e) => e.step === 1).map((e) => e.checkpointId)).toEqual([null, null, null]);
    for (const e of evals.filter((x) => x.status === "completed")) {
      expectConsistent(e, await problemsOf(e.id), 3);
      expect(e.settings).toMatchObject({ template: "azr", definition: { limit: 3, decoding: { maxTokens: 32 } } });
    }
    // The scores are metrics of the run at their step.
    for (const bench of ["fixture-math", "fixture-cruxeval-o"]) {
      const series = await db.prisma.metricSeries.findUniqueOrThrow({ where: { runId_key: { runId: run.id, key: `eval/${bench}/pass@1` } }, include: { points: { orderBy: { step: "asc" } } } });
      const scored = evals.filter((e) => e.benchmark === bench).map((e) => (e.scores as Record<string, number>)["pass@1"]);
      expect(series.points.map((p) => [p.step, p.value])).toEqual([
        [1, scored[0]],
        [2, scored[1]],
      ]);
    }
    // A benchmark without data is a failed evaluation and a warning, never a failed run.
    expect(evals[2]!.error).toMatch(/^benchmark humaneval-plus has no source: nothing is downloaded/);
    const warnings = await db.prisma.runEvent.findMany({ where: { runId: run.id, level: "warn" } });
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/^periodic evaluation of humaneval-plus at step 1 failed: benchmark humaneval-plus has no source/),
      expect.stringMatching(/^periodic evaluation of humaneval-plus at step 2 failed/),
    ]);
  }, 500_000);
});
