import type { PrismaClient, Run } from "@azr/db";
import type { EvalConfig } from "@azr/azr";
import { requireSource, type BenchmarkCatalog } from "./eval-benchmarks.ts";
import { evalSettings } from "./eval-jobs.ts";
import { evaluateOnPolicy, type EvalExecutors } from "./eval-runner.ts";
import { completeEval, recordEvalProgress, tryTransitionEval } from "./eval-store.ts";
import type { Policy } from "./policy.ts";
import { logRunEvent } from "./run-lifecycle.ts";
import { writeMetricPoints } from "./step-store.ts";

// Evaluation during training (the run config's `eval` section): after every `eval.every` steps the
// run's own worker answers each benchmark with the current policy (greedy, the azr template), the
// scores become metrics of the run at that step (`eval/<benchmark>/<score>`), and an evaluation
// row keeps the per-problem results, linked to the step's checkpoint when it has one. A benchmark
// that cannot be evaluated (no source, a bad file) is recorded as a failed evaluation with a
// warning on the run; it never fails the run. A lost worker or a cancel propagates to the attempt.

export interface PeriodicEvalDeps {
  prisma: PrismaClient;
  /** Sandbox pools for scoring (evalExecutors). */
  executors: EvalExecutors;
  benchmarks: BenchmarkCatalog;
}

export interface PeriodicEvalOutcome {
  benchmark: string;
  evalId: string;
  status: "completed" | "failed";
  /** Problems evaluated. */
  problems: number;
  metrics: Record<string, number>;
  error?: string;
}

/** Whether the run config asks for an evaluation after `step`. */
export function periodicEvalDue(config: EvalConfig, step: number): boolean {
  return config.every > 0 && config.benchmarks.length > 0 && step % config.every === 0;
}

/** The metric keys a benchmark's scores are recorded under. */
export function evalMetricKey(benchmark: string, score: string): string {
  return `eval/${benchmark}/${score}`;
}

export async function runPeriodicEval(
  deps: PeriodicEvalDeps,
  run: Pick<Run, "id" | "modelName">,
  config: EvalConfig,
  policy: Policy,
  step: number,
  attempt: {
    /** Races a promise against the attempt's cancel and its worker's death. */
    guard: <T>(p: Promise<T>) => Promise<T>;
    /** Errors that end the attempt (cancel, a lost worker) rather than this evaluation. */
    isFatal: (e: unknown) => boolean;
  },
): Promise<PeriodicEvalOutcome[]> {
  const { guard } = attempt;
  const { prisma } = deps;
  const checkpoint = await prisma.checkpoint.findUnique({ where: { runId_step: { runId: run.id, step } }, select: { id: true, deletedAt: true } });
  const overrides: Record<string, unknown> = { ...(config.limit > 0 ? { limit: config.limit } : {}), ...(config.maxTokens ? { decoding: { maxTokens: config.maxTokens } } : {}) };
  const outcomes: PeriodicEvalOutcome[] = [];
  for (const benchmark of config.benchmarks) {
    const row = await prisma.evalResult.create({
      data: {
        runId: run.id,
        checkpointId: checkpoint && !checkpoint.deletedAt ? checkpoint.id : null,
        step,
        modelName: run.modelName,
        benchmark,
        origin: "periodic",
        status: "running",
        startedAt: new Date(),
      },
    });
    let error: string;
    try {
      const def = deps.benchmarks.resolve(benchmark, overrides);
      requireSource(def);
      await prisma.evalResult.update({ where: { id: row.id }, data: { settings: evalSettings(def, "azr", overrides) as object } });
      const evaluation = evaluateOnPolicy({
        def,
        template: "azr",
        policy,
        executors: deps.executors,
        tag: `eval/${benchmark}`,
        onProgress: (done, total) => void recordEvalProgress(prisma, row.id, done, total).catch(() => {}),
      });
      evaluation.catch(() => {}); // settled by the guard when the attempt is cancelled or loses its worker
      const result = await guard(evaluation);
      const metrics = Object.fromEntries(Object.entries(result.scores).filter(([, v]) => Number.isFinite(v)).map(([k, v]) => [evalMetricKey(benchmark, k), v]));
      await completeEval(prisma, row.id, result.scores, result.problems);
      await prisma.$transaction((tx) => writeMetricPoints(tx, run.id, step, new Date(), metrics));
      outcomes.push({ benchmark, evalId: row.id, status: "completed", problems: result.problems.length, metrics });
      continue;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      const propagates = attempt.isFatal(e);
      await tryTransitionEval(prisma, row.id, "failed", { error: propagates ? `interrupted: ${error}` : error });
      if (propagates) throw e;
    }
    await logRunEvent(prisma, run.id, { level: "warn", actor: "orchestrator", message: `periodic evaluation of ${benchmark} at step ${step} failed: ${error}`, data: { evalId: row.id } });
    outcomes.push({ benchmark, evalId: row.id, status: "failed", problems: 0, metrics: {}, error });
  }
  return outcomes;
}
