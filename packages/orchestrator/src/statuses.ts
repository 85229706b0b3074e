import type { RunStatus } from "@azr/db";

// The run state machine. Every status change in the platform goes through `canTransition`;
// nothing else decides what may follow what.
//
//   queued → provisioning → running ⇄ checkpointing → completed | failed | cancelled
//   running/checkpointing → paused → queued (resume);  failed/cancelled → queued (resume)
//   provisioning/running/checkpointing → provisioning (worker relaunched from the last checkpoint)

export const RUN_STATUSES = [
  "queued",
  "provisioning",
  "running",
  "checkpointing",
  "paused",
  "completed",
  "failed",
  "cancelled",
] as const satisfies readonly RunStatus[];

const TRANSITIONS: Record<RunStatus, readonly RunStatus[]> = {
  queued: ["provisioning", "cancelled", "failed"],
  provisioning: ["running", "provisioning", "queued", "failed", "cancelled"],
  running: ["checkpointing", "provisioning", "paused", "completed", "failed", "cancelled"],
  checkpointing: ["running", "provisioning", "paused", "completed", "failed", "cancelled"],
  paused: ["queued", "cancelled"],
  completed: [],
  failed: ["queued"],
  cancelled: ["queued"],
};

export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function allowedNext(from: RunStatus): readonly RunStatus[] {
  return TRANSITIONS[from];
}

/** Statuses from which `to` may be entered. */
export function allowedFrom(to: RunStatus): RunStatus[] {
  return RUN_STATUSES.filter((s) => TRANSITIONS[s].includes(to));
}

/** No further work will happen unless a user resumes it. */
export function isFinished(s: RunStatus): boolean {
  return s === "completed" || s === "failed" || s === "cancelled";
}

/** A worker may exist for the run: it holds capacity in its pool. */
export function holdsCapacity(s: RunStatus): boolean {
  return s === "provisioning" || s === "running" || s === "checkpointing";
}

export function isCancellable(s: RunStatus): boolean {
  return canTransition(s, "cancelled");
}

/** A user may resume it (provisioning → queued is the scheduler's requeue, not a resume). */
export function isResumable(s: RunStatus): boolean {
  return s === "paused" || s === "failed" || s === "cancelled";
}

/** Deleting or archiving is refused while a worker may be writing to the run. */
export function isDeletable(s: RunStatus): boolean {
  return !holdsCapacity(s);
}
