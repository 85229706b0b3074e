import type { PoolConfig } from "../admin-config.ts";

// One small interface for every place a worker can run (trigger.dev calls theirs
// WorkloadManager): the scheduler asks for a worker, watches it, reads its logs and stops it, and
// never needs to know whether it is a process, a container or a Kubernetes Job.

export type LauncherKind = PoolConfig["launcher"];
export type WorkerBackend = "tiny" | "hf" | "vllm";

/** Everything needed to start one worker for one attempt of one run. */
export interface WorkerSpec {
  runId: string;
  /** 1 for the first launch of a run, +1 for each relaunch (after a crash, a resume). */
  attempt: number;
  /** The id the worker says hello with; the scheduler waits for it on the hub. */
  workerId: string;
  /** The hub URL as seen from where the worker runs (inside a container it is not 127.0.0.1
   * unless the container shares the host's network). */
  hubUrl: string;
  /** Minted for this attempt. Reaches the worker only through its environment
   * (AZR_WORKER_TOKEN): never on a command line, in a label or in a manifest's plain text. */
  token: string;
  backend: WorkerBackend;
  /** Catalogue name of the model, and its directory relative to the data root when it has one;
   * recorded on the worker (labels, annotations). The worker is told what to load by `load`. */
  model: { name: string; path?: string };
  /** Where the worker keeps models and checkpoints, as a path on the control plane's machine:
   * the local worker uses it as is, a container gets it mounted at /data. Kubernetes workers use
   * the launcher's volume claim instead. */
  dataRoot: string;
  /** GPUs for this worker (normally the pool's gpusPerWorker). */
  gpus: number;
  /** CPU and memory limits (normally the pool's). */
  resources: { cpus?: number; memoryGb?: number };
  /** The pool the run was scheduled on; its launcher kind must be the launcher's. */
  pool: PoolConfig;
  /** One of the pool's allowed images (docker, kubernetes); the pool's first by default. */
  image?: string;
  /** Seconds the worker waits for a lost control plane before exiting (default 30). */
  graceSeconds?: number;
}

/** A worker that was started; `id` is what the other calls take. */
export interface LaunchedWorker {
  kind: LauncherKind;
  /** The launcher's handle: the worker id (local), the container id (docker), the Job name
   * (kubernetes). */
  id: string;
  workerId: string;
  runId: string;
  attempt: number;
  startedAt: Date;
  /** The image that runs, by content address (docker, kubernetes). */
  image?: string;
}

/** pending: accepted but not running yet (container created, pod scheduling); exited: ended by
 * itself or by stop; missing: the launcher knows nothing of it (removed, or never existed). */
export type WorkerState = "pending" | "running" | "exited" | "missing";

export interface WorkerObservation {
  state: WorkerState;
  /** The exit code once exited (null when killed by a signal or unknown). */
  exitCode: number | null;
  /** Why it ended, when the launcher knows more than the code (OOM-killed, deadline, signal). */
  reason?: string;
}

export interface LogOptions {
  /** Keep yielding lines as the worker writes them, until it exits or the loop breaks. */
  follow?: boolean;
}

export interface ReconcileOptions {
  /** Leftovers for which this says true are left alone (a live run the caller still owns).
   * Workers this launcher instance started are never touched by reconcile. */
  keep?: (leftover: LeftoverWorker) => boolean;
}

export interface LeftoverWorker {
  id: string;
  runId: string | null;
  attempt: number | null;
}

export interface ReconcileReport {
  removed: LeftoverWorker[];
  kept: LeftoverWorker[];
}

export interface Launcher {
  readonly kind: LauncherKind;
  /** Starts the worker and returns once the process/container/Job exists (not once it has
   * connected: wait for that on the hub). */
  create(spec: WorkerSpec): Promise<LaunchedWorker>;
  observe(id: string): Promise<WorkerObservation>;
  /** The worker's log lines (stdout and stderr interleaved). */
  logs(id: string, options?: LogOptions): AsyncIterable<string>;
  /** Asks the worker to stop (SIGTERM), kills it after `graceMs`, and removes what the launcher
   * created for it. Stopping a worker that is gone is not an error. */
  stop(id: string, options?: { graceMs?: number }): Promise<void>;
  /** After a crash of the control plane: removes what this installation left behind (labelled
   * with its installation id) and was not started by this launcher instance. */
  reconcile(options?: ReconcileOptions): Promise<ReconcileReport>;
}

export class LauncherError extends Error {
  constructor(
    readonly kind: LauncherKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${kind} launcher: ${message}`, options);
    this.name = "LauncherError";
  }
}
