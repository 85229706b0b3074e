import path from "node:path";
import type { Database, Run } from "@azr/db";
import { createExecutor, type BackendName, type ExecutorPool } from "@azr/executor";
import type { AdminConfig } from "./admin-config.ts";
import { CheckpointStore } from "./checkpoints.ts";
import { createLaunchers, type LauncherSettings, type WorkerCredentials } from "./launchers/index.ts";
import { launchedWorkerFactory } from "./worker-sessions.ts";
import { Orchestrator } from "./orchestrator.ts";
import type { SeedingProgress, StepProgress, WorkerFactory } from "./run-attempt.ts";
import { transitionRun } from "./run-lifecycle.ts";
import { InProcessRunQueue, PgBossRunQueue, type RunQueue } from "./run-queue.ts";

// Everything the control plane needs to run runs, assembled from the environment: the admin
// configuration, the sandboxed executor pool, the run queue that fits the database, checkpoint
// storage under the data directory, and a worker launcher per pool kind.

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
  onWorkerLog?: (workerId: string, line: string) => void;
  log?: (line: string) => void;
}

export interface Runtime {
  orchestrator: Orchestrator;
  admin: AdminConfig;
  queue: RunQueue;
  executor: ExecutorPool;
  checkpoints: CheckpointStore;
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
    const factories = new Map(admin.pools.map((p) => [p.name, launchedWorkerFactory({ launcher: launchers.get(p.name)!, pool: p, dataRoot: o.dataDir, models: admin.models, credentials: o.workerCredentials })]));
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
    });
    await orchestrator.start();
    return {
      orchestrator,
      admin,
      queue,
      executor,
      checkpoints,
      async close() {
        await orchestrator.shutdown();
        await executor.close();
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
