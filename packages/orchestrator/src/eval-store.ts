import type { EvalResult, EvalStatus, Prisma, PrismaClient } from "@azr/db";
import { storableJson, storableText } from "./step-store.ts";

// What evaluations leave in the database, and their state machine:
//
//   queued → running → completed | failed | cancelled;   queued → cancelled | failed
//   running → queued (the server restarted mid-evaluation: the job runs again from the start)
//
// Every change is a conditional update on the status it leaves, so a cancel racing the job's own
// completion resolves to exactly one of them.

const TRANSITIONS: Record<EvalStatus, readonly EvalStatus[]> = {
  queued: ["running", "cancelled", "failed"],
  running: ["completed", "failed", "cancelled", "queued"],
  completed: [],
  failed: [],
  cancelled: [],
};

export const EVAL_STATUSES = Object.keys(TRANSITIONS) as EvalStatus[];

export function canTransitionEval(from: EvalStatus, to: EvalStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isEvalFinished(s: EvalStatus): boolean {
  return TRANSITIONS[s].length === 0;
}

export class EvalNotFoundError extends Error {
  override name = "EvalNotFoundError";
  constructor(readonly evalId: string) {
    super(`no evaluation with id ${evalId}`);
  }
}

export class IllegalEvalTransitionError extends Error {
  override name = "IllegalEvalTransitionError";
  constructor(
    readonly evalId: string,
    readonly from: EvalStatus,
    readonly to: EvalStatus,
  ) {
    super(`evaluation ${evalId} is ${from}; it cannot become ${to}`);
  }
}

function fieldsFor(to: EvalStatus, now: Date, extra: { error?: string; problemsTotal?: number }): Prisma.EvalResultUpdateManyMutationInput {
  switch (to) {
    case "running":
      return { status: to, startedAt: now, error: null, problemsDone: 0, ...(extra.problemsTotal !== undefined ? { problemsTotal: extra.problemsTotal } : {}) };
    case "queued":
      return { status: to, startedAt: null, problemsDone: 0 };
    case "failed":
      return { status: to, finishedAt: now, error: extra.error ?? "failed" };
    case "cancelled":
      return { status: to, finishedAt: now, error: extra.error ?? null };
    case "completed":
      return { status: to, finishedAt: now };
  }
}

/** Moves an evaluation to `to` if its current status allows it; throws EvalNotFoundError or
 * IllegalEvalTransitionError otherwise (naming the status it is in). */
export async function transitionEval(prisma: PrismaClient | Prisma.TransactionClient, evalId: string, to: EvalStatus, extra: { error?: string; problemsTotal?: number } = {}): Promise<EvalResult> {
  const from = EVAL_STATUSES.filter((s) => canTransitionEval(s, to));
  const { count } = await prisma.evalResult.updateMany({ where: { id: evalId, status: { in: from } }, data: fieldsFor(to, new Date(), extra) });
  const row = await prisma.evalResult.findUnique({ where: { id: evalId } });
  if (!row) throw new EvalNotFoundError(evalId);
  if (count === 0) throw new IllegalEvalTransitionError(evalId, row.status, to);
  return row;
}

/** Like transitionEval, but false instead of a throw when the status does not allow it. */
export async function tryTransitionEval(prisma: PrismaClient, evalId: string, to: EvalStatus, extra: { error?: string; problemsTotal?: number } = {}): Promise<boolean> {
  const from = EVAL_STATUSES.filter((s) => canTransitionEval(s, to));
  const { count } = await prisma.evalResult.updateMany({ where: { id: evalId, status: { in: from } }, data: fieldsFor(to, new Date(), extra) });
  return count === 1;
}

/** One sample of a problem as stored: what the model wrote, what was taken from it as the answer,
 * and the verdict. */
export interface StoredSample {
  completion: string;
  extracted: string | null;
  correct: boolean;
  status: string;
  detail: string | null;
}

export interface StoredProblem {
  problemId: string;
  index: number;
  prompt: string;
  correct: number;
  n: number;
  samples: StoredSample[];
}

/** Stores the per-problem results and the scores and marks the evaluation completed, in one
 * transaction; returns false (and stores nothing) when it is no longer running (cancelled). */
export async function completeEval(prisma: PrismaClient, evalId: string, scores: Record<string, number>, problems: StoredProblem[]): Promise<boolean> {
  return prisma.$transaction(
    async (tx) => {
      const { count } = await tx.evalResult.updateMany({
        where: { id: evalId, status: "running" },
        data: { status: "completed", finishedAt: new Date(), scores, problemsDone: problems.length, problemsTotal: problems.length },
      });
      if (count === 0) return false;
      await tx.evalProblemResult.deleteMany({ where: { evalId } });
      // Batches keep each statement's parameter count well inside PostgreSQL's limit.
      for (let i = 0; i < problems.length; i += 500) {
        await tx.evalProblemResult.createMany({
          data: problems.slice(i, i + 500).map((p) => ({
            evalId,
            problemId: p.problemId,
            index: p.index,
            correct: p.correct,
            n: p.n,
            solved: p.correct > 0,
            prompt: storableText(p.prompt),
            samples: storableJson(p.samples) ?? [],
          })),
        });
      }
      return true;
    },
    { timeout: 60_000 },
  );
}

/** Progress of a running evaluation (problems answered and scored so far). */
export async function recordEvalProgress(prisma: PrismaClient, evalId: string, done: number, total: number): Promise<void> {
  await prisma.evalResult.updateMany({ where: { id: evalId, status: "running" }, data: { problemsDone: done, problemsTotal: total } });
}

/** Evaluations a stopped server left `running` go back to `queued` (user jobs, run again from the
 * start) or `failed` (periodic ones: their run resumes after its last checkpoint, so a step it
 * already finished is not evaluated again; the failed row says why its scores are missing).
 * Returns the ids of the jobs to queue again. */
export async function recoverEvals(prisma: PrismaClient): Promise<string[]> {
  await prisma.evalResult.updateMany({
    where: { status: "running", origin: "periodic" },
    data: { status: "failed", finishedAt: new Date(), error: "interrupted: the server stopped during this evaluation" },
  });
  await prisma.evalResult.updateMany({ where: { status: "running", origin: "user" }, data: { status: "queued", startedAt: null, problemsDone: 0 } });
  const jobs = await prisma.evalResult.findMany({
    where: { status: "queued", origin: "user", jobId: { not: null } },
    distinct: ["jobId"],
    orderBy: [{ priority: "desc" }, { createdAt: "asc" }],
    select: { jobId: true },
  });
  return jobs.map((j) => j.jobId!);
}
