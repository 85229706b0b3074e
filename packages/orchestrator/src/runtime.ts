import path from "node:path";
import type { Database, EvalResult, Run } from "@azr/db";
import { createExecutor, type BackendName, type ExecutorPool } from "@azr/executor";
import { createEvalExecutor } from "@azr/eval";
import type { AdminConfig } from "./admin-config.ts";
import { CheckpointStore } from "./checkpoints.ts";
import { createLaunchers, type LauncherSettings, type WorkerCredentials } from "./launchers/index.ts";
import { BenchmarkCatalog } from "./eval-benchmarks.ts";
import type { EvalProgress } from "./eval-jobs.ts";
import { evalExecutors } from "./eval-runner.ts";
import { launchedEvalWorkerFactory, launchedWorkerFactory } from "./worker-sessions.ts";
import { Orchestrator } from "./orchestrator.ts";
import type { SeedingProgress, StepProgress, WorkerFactory } from "./run-attempt.ts";
import { transitionRun } from "./run-lifecycle.ts";
import { InProcessRunQueue, PgBossRunQueue, type RunQueue } from "./run-queue.ts";

// Everything the control plane needs to run runs, assembled from the environment: the admin
// configuration, the sandboxed executor pool, the run queue that fits the database, checkpoint
// storage under the data directory, and a worker launcher per pool kind.

/** Host uids of the math scoring pool's runners, clear of the training pool's (bwrap's default
 * base 2_000_100_000 plus its runners). */
const SCORING_UID_BASE = 2_000_100_500;

export interface RuntimeOptions {
  db: Database;
  /** Models and checkpoints live here (AZR_DATA_DIR, default .azr). */
  dataDir: string;
  /** The validated admin configuration (loadAdminConfig). */
  admin: AdminConfig;
  executorRunners?: number;
  /** Sandbox for model-written code: bwrap (the embedded default), docker, or auto (bwrap, else
   * docker). There is no unsandboxed mode: with neither available the runtime does not start. */
  executorBackend?: BackendName | "auto";
  /** Installation id and per-launcher settings (docker network, kubernetes volume claim...). */
  launcherSettings?: Partial<LauncherSettings>;
  /** Who mints each run attempt's worker token; the server passes the API's AuthService
   * (`auth.workerCredentials()`), so tokens are stored hashed and refused once the attempt ends. */
  workerCredentials?: WorkerCredentials;
  onStep?: (p: StepProgress) => void;
  /** After each proposer batch of a run's seeding stage. */
  onSeeding?: (p: SeedingProgress) => void;
  /** Each status change and progress report of an evaluation. */
  onEvalProgress?: (p: EvalProgress) => void;
  onWorkerLog?: (workerId: string, line: string) => void;
  log?: (line: string) => void;
}

export interface Runtime {
  orchestrator: Orchestrator;
  admin: AdminConfig;
  queue: RunQueue;
  executor: ExecutorPool;
  checkpoints: CheckpointStore;
  /** The built-in benchmarks with the admin file's on top. */
  benchmarks: BenchmarkCatalog;
  close(): Promise<void>;
}

export async function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  const { admin } = o;
  const executor = await createExecutor({ backend: o.executorBackend ?? "bwrap", runners: o.executorRunners });
  try {
    const pools = admin.pools.map((p) => ({ name: p.name, concurrency: p.concurrency }));
    const queue: RunQueue = o.db.target.kind === "postgres" ? new PgBossRunQueue(o.db.target.url, pools) : new InProcessRunQueue(pools);
    const checkpoints = new CheckpointStore(o.db.prisma, { root: path.resolve(o.dataDir, admin.checkpoints.root), keepLast: admin.checkpoints.keepLast });
    const launchers = createLaunchers(admin.pools, {
      installationId: o.launcherSettings?.installationId ?? "azr-default",
      ...o.launcherSettings,
      local: { ...o.launcherSettings?.local, onLog: (workerId, line) => o.onWorkerLog?.(workerId, line) },
    });
    // Leftovers of a crashed previous server (containers, Jobs of this installation) are
    // removed before anything is relaunched; the recovery below relaunches their runs.
    for (const launcher of new Set(launchers.values())) {
      const report = await launcher.reconcile().catch((e: unknown) => {
        o.log?.(`${launcher.kind} launcher: reconcile failed: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      });
      if (report?.removed.length) o.log?.(`${launcher.kind} launcher: removed ${report.removed.length} leftover worker(s) of a previous server`);
    }
    const sessionOptions = (p: AdminConfig["pools"][number]) => ({ launcher: launchers.get(p.name)!, pool: p, dataRoot: o.dataDir, models: admin.models, credentials: o.workerCredentials });
    const factories = new Map(admin.pools.map((p) => [p.name, launchedWorkerFactory(sessionOptions(p))]));
    const evalFactories = new Map(admin.pools.map((p) => [p.name, launchedEvalWorkerFactory(sessionOptions(p))]));
    const benchmarks = new BenchmarkCatalog(admin.benchmarks);
    // Math scoring needs sympy in the sandbox, which pools that run training's programs never
    // have: a small scoring pool of its own, started on the first math evaluation. Its runners
    // get host uids of their own (RLIMIT_NPROC counts per uid).
    let scoring: Promise<ExecutorPool> | undefined;
    const scoringPool = () =>
      (scoring ??= createEvalExecutor({ kind: "math" }, { backend: o.executorBackend ?? "bwrap", runners: 2, bwrap: { uidBase: SCORING_UID_BASE } }).catch((e: unknown) => {
        scoring = undefined;
        throw e;
      }));
    const orchestrator = new Orchestrator({
      prisma: o.db.prisma,
      admin,
      queue,
      executor,
      checkpoints,
      seedsRoot: path.resolve(o.dataDir, admin.seeds.root),
      onStep: o.onStep,
      onSeeding: o.onSeeding,
      log: o.log,
      workersFor: (pool): WorkerFactory => factories.get(pool.name)!,
      evalWorkersFor: (pool) => evalFactories.get(pool.name)!,
      evalExecutors: evalExecutors(executor, scoringPool),
      benchmarks,
      onEvalProgress: o.onEvalProgress,
    });
    await orchestrator.start();
    return {
      orchestrator,
      admin,
      queue,
      executor,
      checkpoints,
      benchmarks,
      async close() {
        await orchestrator.shutdown();
        await executor.close();
        if (scoring) await (await scoring.catch(() => undefined))?.close();
      },
    };
  } catch (e) {
    await executor.close();
    throw e;
  }
}

/** The API's RunControl (packages/api) served by the orchestrator: state changes go through the
 * same transitions, and the orchestrator schedules or stops the work. */
export class OrchestratorRunControl {
  constructor(
    private readonly prisma: Database["prisma"],
    private readonly orchestrator: Orchestrator,
  ) {}

  async runCreated(run: Run): Promise<void> {
    await this.orchestrator.submit(run.id);
  }

  async cancel(runId: string, actor: string, reason: string): Promise<Run> {
    await this.orchestrator.cancel(runId, actor, reason);
    return this.prisma.run.findUniqueOrThrow({ where: { id: runId } });
  }

  async resume(runId: string, actor: string, reason: string): Promise<Run> {
    const run = await transitionRun(this.prisma, { runId, to: "queued", actor, reason });
    await this.orchestrator.submit(runId);
    return run;
  }
}

/** The API's EvalControl (packages/api) served by the orchestrator: a new eval job is queued in
 * its pool like a run, and a cancel stops the evaluation if it is being worked on. */
export class OrchestratorEvalControl {
  constructor(
    private readonly prisma: Database["prisma"],
    private readonly orchestrator: Orchestrator,
  ) {}

  async jobCreated(jobId: string): Promise<void> {
    await this.orchestrator.submitEvalJob(jobId);
  }

  async cancel(evalId: string, actor: string, reason: string): Promise<EvalResult> {
    await this.orchestrator.cancelEval(evalId, actor, reason);
    return this.prisma.evalResult.findUniqueOrThrow({ where: { id: evalId } });
  }
}
