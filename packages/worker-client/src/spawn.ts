import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** apps/worker in this checkout (the Python package `azr_worker` lives there). */
export const WORKER_APP_DIR = fileURLToPath(new URL("../../../apps/worker", import.meta.url));

/** Debian's interpreter (where apt installs torch), not whatever `python3` comes first on PATH. */
export function findPython(): string {
  for (const p of [process.env.AZR_PYTHON, "/usr/bin/python3", "/bin/python3"]) if (p && existsSync(p)) return p;
  return "python3";
}

export interface SpawnWorkerOptions {
  /** The hub's URL (WorkerHub.url). */
  url: string;
  /** Passed in the child's environment (AZR_WORKER_TOKEN), never on its command line. */
  token: string;
  workerId?: string;
  backend?: "tiny" | "hf" | "vllm";
  /** Models and checkpoints are confined to this directory. */
  dataRoot: string;
  /** Seconds without a control plane before the worker exits (default 30). */
  graceSeconds?: number;
  heartbeatSeconds?: number;
  threads?: number;
  python?: string;
  /** DDP: run under torchrun with this many processes (gloo on CPU). */
  nproc?: number;
  extraArgs?: string[];
  /** Added to the child's minimal environment. */
  env?: Record<string, string>;
  /** Called with each line the worker logs. */
  onLog?: (line: string) => void;
}

export interface LocalWorker {
  child: ChildProcess;
  pid: number;
  workerId: string;
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines the worker logged (for error messages). */
  logTail(): string[];
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts the Python worker as a child process with a minimal environment (no inherited secrets),
 * told to exit if this process dies. It dials `url` and says hello as `workerId`.
 */
export function spawnLocalWorker(opts: SpawnWorkerOptions): LocalWorker {
  const workerId = opts.workerId ?? `local-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const python = opts.python ?? findPython();
  const args = [
    "--url", opts.url,
    "--backend", opts.backend ?? "tiny",
    "--data-root", opts.dataRoot,
    "--worker-id", workerId,
    "--grace", String(opts.graceSeconds ?? 30),
    "--heartbeat", String(opts.heartbeatSeconds ?? 5),
    "--exit-with-parent",
    ...(opts.threads ? ["--threads", String(opts.threads)] : []),
    ...(opts.extraArgs ?? []),
  ];
  const argv = opts.nproc && opts.nproc > 1
    ? ["-m", "azr_worker.launch", "--standalone", `--nproc_per_node=${opts.nproc}`, "-m", "azr_worker", ...args]
    : ["-m", "azr_worker", ...args];
  const env: Record<string, string> = {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    HOME: opts.dataRoot,
    PYTHONPATH: WORKER_APP_DIR,
    PYTHONUNBUFFERED: "1",
    PYTHONDONTWRITEBYTECODE: "1",
    AZR_WORKER_TOKEN: opts.token,
    ...(opts.threads ? { OMP_NUM_THREADS: String(opts.threads) } : {}),
    ...opts.env,
  };
  const child = spawn(python, argv, { cwd: WORKER_APP_DIR, env, stdio: ["ignore", "pipe", "pipe"] });
  const tail: string[] = [];
  const onData = (buf: Buffer) => {
    for (const line of buf.toString().split("\n")) {
      if (!line) continue;
      tail.push(line);
      if (tail.length > 50) tail.shift();
      opts.onLog?.(line);
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    // A spawn that fails (no interpreter) emits only 'error': report it instead of crashing.
    child.once("error", (error) => {
      tail.push(`could not start ${python}: ${error.message}`);
      opts.onLog?.(tail.at(-1)!);
      resolve({ code: null, signal: null });
    });
  });
  return {
    child,
    pid: child.pid ?? -1,
    workerId,
    exited,
    logTail: () => [...tail],
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
