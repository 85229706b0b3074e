import type { EvalResult, PrismaClient } from "@azr/db";
import { transitionEval } from "@azr/orchestrator";

/**
 * What the API asks of whoever runs evaluations (the counterpart of RunControl). The API
 * validates, authorizes and writes the queued evaluation rows of a new job; EvalControl queues the
 * job in its pool and stops a cancelled evaluation that is being worked on.
 *
 * `DatabaseEvalControl` only records the cancel; queued rows are picked up by the orchestrator
 * at its next start. The server plugs in the orchestrator's (`OrchestratorEvalControl`).
 */
export interface EvalControl {
  /** The queued evaluations of a new job exist. */
  jobCreated(jobId: string, actor: string): Promise<void>;
  /** Stop an evaluation: it ends `cancelled`. */
  cancel(evalId: string, actor: string, reason: string): Promise<EvalResult>;
}

export class DatabaseEvalControl implements EvalControl {
  constructor(private readonly prisma: PrismaClient) {}

  async jobCreated(): Promise<void> {}

  cancel(evalId: string, actor: string, reason: string): Promise<EvalResult> {
    return transitionEval(this.prisma, evalId, "cancelled", { error: `${reason} (${actor})` });
  }
}
