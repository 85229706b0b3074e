import type { PrismaClient, Run } from "@azr/db";
import { transitionRun } from "@azr/orchestrator";

/**
 * What the API asks of whoever runs the runs. The API validates, authorizes and writes the rows a
 * user action implies (a new queued run, a fork linked to its checkpoint); RunControl performs the
 * state change and lets the orchestrator react (schedule, stop a worker, relaunch).
 *
 * `DatabaseRunControl` only records the transitions; the orchestrator plugs in its own
 * implementation (typically wrapping this one and then poking its scheduler or launcher) through
 * `createApi({ runControl })`.
 */
export interface RunControl {
  /** A new run row (status queued) exists: a fresh run or a fork. */
  runCreated(run: Run, actor: string): Promise<void>;
  /** Stop the run: it ends `cancelled`. */
  cancel(runId: string, actor: string, reason: string): Promise<Run>;
  /** Continue a paused, failed or cancelled run from its last checkpoint as the same run. */
  resume(runId: string, actor: string, reason: string): Promise<Run>;
}

export class DatabaseRunControl implements RunControl {
  constructor(private readonly prisma: PrismaClient) {}

  // A queued row is already the queue entry the scheduler picks up; there is nothing to wake here.
  async runCreated(): Promise<void> {}

  cancel(runId: string, actor: string, reason: string): Promise<Run> {
    return transitionRun(this.prisma, { runId, to: "cancelled", actor, reason });
  }

  resume(runId: string, actor: string, reason: string): Promise<Run> {
    return transitionRun(this.prisma, { runId, to: "queued", actor, reason });
  }
}
