import type { Prisma, PrismaClient, Run, RunStatus } from "@azr/db";
import { canTransition } from "./statuses.ts";

export class IllegalTransitionError extends Error {
  constructor(
    readonly runId: string,
    readonly from: RunStatus,
    readonly to: RunStatus,
  ) {
    super(`run ${runId} is ${from}; it cannot become ${to}`);
    this.name = "IllegalTransitionError";
  }
}

export class RunNotFoundError extends Error {
  constructor(readonly runId: string) {
    super(`no run with id ${runId}`);
    this.name = "RunNotFoundError";
  }
}

export interface TransitionRequest {
  runId: string;
  to: RunStatus;
  /** who asked: `user:<id>`, `scheduler`, `worker`, `server` ... */
  actor: string;
  /** why, in words a user reads on the run's timeline */
  reason: string;
  data?: Prisma.InputJsonValue;
}

/** Moves a run to a new status and records the transition as an event, atomically. The run's row
 * is locked for the transaction, so concurrent transitions apply one after the other, each
 * checked against the status the previous one left. */
export async function transitionRun(prisma: PrismaClient, req: TransitionRequest): Promise<Run> {
  const now = new Date();
  return prisma.$transaction(async (tx) => {
    // FOR UPDATE: a racing transition waits here and then sees this one's result, so the
    // recorded `fromStatus` is always the status the run really left.
    const [current] = await tx.$queryRaw<{ status: RunStatus; startedAt: Date | null }[]>`
      SELECT status::text AS status, "startedAt" FROM "Run" WHERE id = ${req.runId} FOR UPDATE`;
    if (!current) throw new RunNotFoundError(req.runId);
    if (!canTransition(current.status, req.to)) throw new IllegalTransitionError(req.runId, current.status, req.to);
    await tx.run.update({ where: { id: req.runId }, data: fieldsFor(req, now, current.startedAt === null) });
    await tx.runEvent.create({
      data: {
        runId: req.runId,
        kind: "transition",
        fromStatus: current.status,
        toStatus: req.to,
        level: req.to === "failed" ? "error" : "info",
        actor: req.actor,
        message: req.reason,
        data: req.data,
      },
    });
    return tx.run.findUniqueOrThrow({ where: { id: req.runId } });
  });
}

function fieldsFor(req: TransitionRequest, now: Date, neverStarted: boolean): Prisma.RunUpdateInput {
  switch (req.to) {
    case "queued":
      return { status: "queued", queuedAt: now, finishedAt: null, failureReason: null };
    case "provisioning":
      return { status: "provisioning", attempt: { increment: 1 } };
    case "running":
      return neverStarted ? { status: "running", startedAt: now } : { status: "running" };
    case "failed":
      return { status: "failed", finishedAt: now, failureReason: req.reason };
    case "completed":
    case "cancelled":
      return { status: req.to, finishedAt: now };
    default:
      return { status: req.to };
  }
}

/** Appends a log line to the run's event stream. */
export async function logRunEvent(
  prisma: PrismaClient,
  runId: string,
  line: { level?: "debug" | "info" | "warn" | "error"; actor: string; message: string; data?: Prisma.InputJsonValue },
): Promise<void> {
  await prisma.runEvent.create({ data: { runId, kind: "log", level: line.level ?? "info", actor: line.actor, message: line.message, data: line.data } });
}
