import type { EvalResult, PrismaClient } from "@azr/db";
import { benchmarkDefinitionSchema, type BenchmarkDefinition, type TemplateStyle } from "@azr/eval";
import { z } from "zod";
import { EvalAborted, evaluateOnPolicy, type EvalExecutors } from "./eval-runner.ts";
import { completeEval, recordEvalProgress, transitionEval, tryTransitionEval } from "./eval-store.ts";
import type { Policy } from "./policy.ts";

// An eval job: the evaluations started together on one model (a checkpoint of a run, or a
// catalogue model), run one benchmark after another on one worker launched for the job through
// the pool's launcher, scored in the orchestrator's sandbox pools. Each evaluation moves
// queued → running → completed | failed | cancelled on its own; a cancelled one stops at once and
// the job goes on with the next.

/** What an eval job asks of the pool's launcher: a worker serving `modelName`, restored from a
 * run's checkpoint when one is given. */
export interface EvalWorkerRequest {
  /** The job id: names the worker (container, Job) and its labels. */
  jobId: string;
  /** 1 for the first launch of the job, +1 after a server restart. */
  attempt: number;
  modelName: string;
  /** A run checkpoint's model directory (absolute, under the data root). */
  checkpointModelDir?: string;
}

export interface EvalWorkerSession {
  policy: Policy;
  /** Rejects when the worker dies; never resolves otherwise. */
  died: Promise<never>;
  close(): Promise<void>;
}

export type EvalWorkerFactory = (request: EvalWorkerRequest) => Promise<EvalWorkerSession>;

export interface EvalProgress {
  evalId: string;
  jobId: string | null;
  runId: string | null;
  benchmark: string;
  status: EvalResult["status"];
  done: number;
  total: number;
}

/** What an evaluation row's `settings` hold: everything the job needs, fixed when it was started
 * (a later change of the admin file does not change a queued evaluation). */
export const evalSettingsSchema = z.object({
  definition: benchmarkDefinitionSchema,
  template: z.enum(["azr", "base"]),
  overrides: z.record(z.string(), z.unknown()).default({}),
});
export type EvalSettings = z.infer<typeof evalSettingsSchema>;

export function evalSettings(definition: BenchmarkDefinition, template: TemplateStyle, overrides: Record<string, unknown>): EvalSettings {
  return { definition, template, overrides };
}

export interface EvalJobDeps {
  prisma: PrismaClient;
  /** Sandbox pools for scoring (evalExecutors). */
  executors: EvalExecutors;
  workers: EvalWorkerFactory;
  onProgress?: (p: EvalProgress) => void;
  /** Least time between two progress writes of one evaluation (ms, default 1000). */
  progressIntervalMs?: number;
}

export interface EvalJobControl {
  /** Aborts the whole job (server shutdown): its evaluations stay running and are queued again
   * at the next start. */
  signal: AbortSignal;
  /** A cancelled evaluation's own abort: registered while it runs, so `cancel` can stop it. */
  register(evalId: string, abort: AbortController): void;
  unregister(evalId: string): void;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs every queued evaluation of `jobId`; failures end as status `failed` with the reason, never
 * as a throw (except a shutdown abort, which leaves them running for the recovery). */
export async function executeEvalJob(deps: EvalJobDeps, jobId: string, control: EvalJobControl): Promise<"done" | "interrupted"> {
  const { prisma } = deps;
  const rows = await prisma.evalResult.findMany({ where: { jobId, status: "queued" }, orderBy: [{ createdAt: "asc" }, { benchmark: "asc" }] });
  if (rows.length === 0) return "done";
  const first = rows[0]!;
  const failAll = async (reason: string, ids = rows.map((r) => r.id)) => {
    for (const id of ids) if (await tryTransitionEval(prisma, id, "failed", { error: reason })) notify(deps, await prisma.evalResult.findUniqueOrThrow({ where: { id } }));
  };

  let checkpointModelDir: string | undefined;
  if (first.runId) {
    const checkpoint = first.checkpointId ? await prisma.checkpoint.findUnique({ where: { id: first.checkpointId } }) : null;
    if (!checkpoint || checkpoint.deletedAt) {
      await failAll(`the checkpoint${first.step !== null ? ` of step ${first.step}` : ""} of run ${first.runId} was deleted before the evaluation started`);
      return "done";
    }
    checkpointModelDir = `${checkpoint.location}/model`;
  }
  if (!first.modelName) {
    await failAll("the evaluation names no model");
    return "done";
  }
  const settings = new Map<string, EvalSettings>();
  for (const row of rows) {
    const parsed = evalSettingsSchema.safeParse(row.settings);
    if (parsed.success) settings.set(row.id, parsed.data);
    else await failAll(`stored settings are invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, [row.id]);
  }

  const interrupted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(new EvalAborted());
    if (control.signal.aborted) onAbort();
    else control.signal.addEventListener("abort", onAbort, { once: true });
  });
  interrupted.catch(() => {});

  let session: EvalWorkerSession | undefined;
  try {
    try {
      session = await Promise.race([deps.workers({ jobId, attempt: 1, modelName: first.modelName, checkpointModelDir }), interrupted]);
    } catch (e) {
      if (e instanceof EvalAborted) return "interrupted";
      await failAll(`the worker did not start: ${message(e)}`, rows.filter((r) => settings.has(r.id)).map((r) => r.id));
      return "done";
    }
    for (const row of rows) {
      const s = settings.get(row.id);
      if (!s) continue;
      const end = await runOne(deps, session, row, s, control, interrupted);
      if (end === "interrupted") return "interrupted";
      if (end === "worker-lost") {
        const rest = rows.slice(rows.indexOf(row) + 1).filter((r) => settings.has(r.id));
        await failAll("the worker was lost during an earlier benchmark of this job", rest.map((r) => r.id));
        return "done";
      }
    }
    return "done";
  } finally {
    await session?.close().catch(() => {});
  }
}

async function runOne(
  deps: EvalJobDeps,
  session: EvalWorkerSession,
  row: EvalResult,
  s: EvalSettings,
  control: EvalJobControl,
  interrupted: Promise<never>,
): Promise<"ok" | "interrupted" | "worker-lost"> {
  const { prisma } = deps;
  // Cancelled while it waited for its turn: nothing to do.
  if (!(await tryTransitionEval(prisma, row.id, "running"))) return "ok";
  notify(deps, await prisma.evalResult.findUniqueOrThrow({ where: { id: row.id } }));
  const abort = new AbortController();
  control.register(row.id, abort);
  const cancelled = new Promise<never>((_, reject) => abort.signal.addEventListener("abort", () => reject(new EvalAborted()), { once: true }));
  cancelled.catch(() => {});
  const interval = deps.progressIntervalMs ?? 1000;
  let lastWrite = 0;
  let pending: Promise<void> = Promise.resolve();
  const onProgress = (done: number, total: number) => {
    const now = Date.now();
    if (done < total && done > 0 && now - lastWrite < interval) return;
    lastWrite = now;
    pending = pending.then(() => recordEvalProgress(prisma, row.id, done, total)).catch(() => {});
    deps.onProgress?.({ evalId: row.id, jobId: row.jobId, runId: row.runId, benchmark: row.benchmark, status: "running", done, total });
  };
  try {
    const evaluation = evaluateOnPolicy({ def: s.definition, template: s.template, policy: session.policy, executors: deps.executors, tag: `eval/${row.benchmark}`, signal: abort.signal, onProgress });
    // A cancel settles the race at once; the evaluation itself stops at its next generate call.
    evaluation.catch(() => {});
    const result = await Promise.race([
      evaluation,
      cancelled,
      interrupted,
      session.died,
    ]);
    await pending;
    if (await completeEval(prisma, row.id, result.scores, result.problems)) notify(deps, await prisma.evalResult.findUniqueOrThrow({ where: { id: row.id } }));
    return "ok";
  } catch (e) {
    await pending;
    if (control.signal.aborted) return "interrupted";
    if (abort.signal.aborted) return "ok"; // cancel already recorded the status
    const lost = await Promise.race([session.died.then(() => false, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), 0))]);
    const reason = lost ? `worker lost: ${message(e)}` : message(e);
    await transitionEval(prisma, row.id, "failed", { error: reason }).catch(() => {});
    notify(deps, await prisma.evalResult.findUniqueOrThrow({ where: { id: row.id } }));
    return lost ? "worker-lost" : "ok";
  } finally {
    control.unregister(row.id);
  }
}

function notify(deps: EvalJobDeps, row: EvalResult): void {
  deps.onProgress?.({ evalId: row.id, jobId: row.jobId, runId: row.runId, benchmark: row.benchmark, status: row.status, done: row.problemsDone, total: row.problemsTotal });
}
