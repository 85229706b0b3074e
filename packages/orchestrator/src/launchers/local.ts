import { once } from "node:events";
import { mkdirSync } from "node:fs";
import { spawnLocalWorker, type LocalWorker } from "@azr/worker-client";
import { LogLines } from "./log-lines.ts";
import { checkSpec } from "./spec.ts";
import {
  LauncherError,
  type LaunchedWorker,
  type Launcher,
  type LogOptions,
  type ReconcileReport,
  type WorkerObservation,
  type WorkerSpec,
} from "./types.ts";

export interface LocalLauncherOptions {
  /** The interpreter (default: Debian's python3, see findPython). */
  python?: string;
  /** torch CPU threads per worker (default: torch's choice). */
  threads?: number;
  /** GPU indices this host lends to local workers, handed out in order (CUDA_VISIBLE_DEVICES). */
  gpuIds?: number[];
  /** Lines kept per worker for `logs` (default 2000). */
  logLines?: number;
  /** Also called with every line any worker logs. */
  onLog?: (workerId: string, line: string) => void;
}

interface Tracked {
  launched: LaunchedWorker;
  process: LocalWorker;
  logs: LogLines;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  gpus: number[];
}

/**
 * The embedded default: the Python worker as a child process of the control plane. Its
 * environment is built from scratch by spawnLocalWorker (PATH, locale, PYTHONPATH and the worker's
 * own settings), so the server's DATABASE_URL, admin secrets and whatever else it was started with
 * never reach it. The worker exits by itself when this process dies (--exit-with-parent), so a
 * crash leaves no process behind for `reconcile` to find.
 */
export class LocalLauncher implements Launcher {
  readonly kind = "local" as const;
  private readonly workers = new Map<string, Tracked>();
  private readonly freeGpus: number[];

  constructor(private readonly options: LocalLauncherOptions = {}) {
    this.freeGpus = [...(options.gpuIds ?? [])];
  }

  async create(spec: WorkerSpec): Promise<LaunchedWorker> {
    checkSpec("local", spec);
    const known = this.workers.get(spec.workerId);
    if (known && !known.exit) throw new LauncherError("local", `worker ${spec.workerId} is already running (pid ${known.process.pid})`);
    if (spec.gpus > this.freeGpus.length)
      throw new LauncherError("local", `worker ${spec.workerId} needs ${spec.gpus} GPU(s); ${this.freeGpus.length} of this host's are free`);
    mkdirSync(spec.dataRoot, { recursive: true });
    const gpus = this.freeGpus.splice(0, spec.gpus);
    const logs = new LogLines(this.options.logLines);
    const proc = spawnLocalWorker({
      url: spec.hubUrl,
      token: spec.token,
      workerId: spec.workerId,
      backend: spec.backend,
      dataRoot: spec.dataRoot,
      graceSeconds: spec.graceSeconds ?? 30,
      ...(this.options.python ? { python: this.options.python } : {}),
      ...(this.options.threads ? { threads: this.options.threads } : {}),
      // One process per GPU (torchrun) when a worker spans several.
      ...(gpus.length > 1 ? { nproc: gpus.length } : {}),
      // Without this a CPU worker on a GPU host would grab a GPU it was not given.
      env: { CUDA_VISIBLE_DEVICES: gpus.join(",") },
      onLog: (line) => {
        logs.push(line);
        this.options.onLog?.(spec.workerId, line);
      },
    });
    if (proc.pid < 0) {
      // A failed spawn (no interpreter) emits only 'error', never 'exit'.
      this.freeGpus.push(...gpus);
      const [error] = (await once(proc.child, "error")) as [Error];
      throw new LauncherError("local", `could not start the worker: ${error.message}`, { cause: error });
    }
    const launched: LaunchedWorker = {
      kind: "local",
      id: spec.workerId,
      workerId: spec.workerId,
      runId: spec.runId,
      attempt: spec.attempt,
      startedAt: new Date(),
    };
    const tracked: Tracked = { launched, process: proc, logs, exit: null, gpus };
    this.workers.set(spec.workerId, tracked);
    void proc.exited.then((exit) => {
      tracked.exit = exit;
      logs.close();
      this.freeGpus.push(...gpus);
    });
    return launched;
  }

  async observe(id: string): Promise<WorkerObservation> {
    const w = this.workers.get(id);
    if (!w) return { state: "missing", exitCode: null };
    if (!w.exit) return { state: "running", exitCode: null };
    return {
      state: "exited",
      exitCode: w.exit.code,
      ...(w.exit.signal ? { reason: `killed by ${w.exit.signal}` } : {}),
    };
  }

  logs(id: string, options: LogOptions = {}): AsyncIterable<string> {
    const w = this.workers.get(id);
    if (!w) throw new LauncherError("local", `no worker ${id}`);
    return w.logs.read(options.follow ?? false);
  }

  async stop(id: string, options: { graceMs?: number } = {}): Promise<void> {
    const w = this.workers.get(id);
    if (!w) return;
    await w.process.stop(options.graceMs ?? 10_000);
    // The exit handler above has run by now (it was attached before stop's own wait).
    this.workers.delete(id);
  }

  /** Nothing outlives the control plane here (see the class comment); forgets exited workers. */
  async reconcile(): Promise<ReconcileReport> {
    for (const [id, w] of this.workers) if (w.exit) this.workers.delete(id);
    return { removed: [], kept: [] };
  }

  /** The worker's process id (for tests and diagnostics). */
  pid(id: string): number | undefined {
    return this.workers.get(id)?.process.pid;
  }
}
