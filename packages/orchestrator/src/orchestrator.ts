import type { PrismaClient, RunStatus } from "@azr/db";
import { findPool, type AdminConfig, type PoolConfig } from "./admin-config.ts";
import type { CheckpointStore } from "./checkpoints.ts";
import { executeRunAttempt, type SeedingProgress, type StepProgress, type WorkerFactory } from "./run-attempt.ts";
import { transitionRun } from "./run-lifecycle.ts";
import type { QueuedRun, RunQueue } from "./run-queue.ts";
import type { Executor } from "./step-engine.ts";

// The control plane's run service: it feeds queued runs to attempts as pools have capacity,
// cancels and resumes them, and after a restart picks up whatever the previous process left:
// queued runs are queued again, runs that were mid-step are relaunched from their last
// checkpoint, runs paused by a shutdown continue.

export const SHUTDOWN_REASON = "server shutdown";
export const SLICE_REASON = "time slice over; yielding the pool slot";

export interface OrchestratorOptions {
  prisma: PrismaClient;
  admin: AdminConfig;
  queue: RunQueue;
  executor: Executor;
  checkpoints: CheckpointStore;
  /** How workers are launched for a pool (local child process, container, Kubernetes Job). */
  workersFor(pool: PoolConfig): WorkerFactory;
  /** Absolute directory that run configs may name seed files in (admin config `seeds.root`). */
  seedsRoot?: string;
  onStep?: (p: StepProgress) => void;
  onSeeding?: (p: SeedingProgress) => void;
  log?: (line: string) => void;
  learnabilitySampleRate?: number;
}

interface ActiveAttempt {
  abort: AbortController;
  done: Promise<unknown>;
}

export class Orchestrator {
  private readonly active = new Map<string, ActiveAttempt>();
  private stopping = false;

  constructor(private readonly o: OrchestratorOptions) {}

  async start(): Promise<void> {
    await this.recover();
    await this.o.queue.start((job) => this.attempt(job));
  }

  /** Puts a queued run in its pool's queue. */
  async submit(runId: string): Promise<void> {
    const run = await this.o.prisma.run.findUniqueOrThrow({ where: { id: runId } });
    if (run.status !== "queued") throw new Error(`run ${runId} is ${run.status}, not queued`);
    if (!findPool(this.o.admin, run.poolName)) throw new Error(`run ${runId} names pool "${run.poolName}", which the admin configuration does not define`);
    await this.o.queue.enqueue({ runId, pool: run.poolName, priority: run.priority, queuedAt: run.queuedAt });
  }

  /** Cancels a run: its status changes at once and a running attempt stops within moments. */
  async cancel(runId: string, actor: string, reason = "cancelled"): Promise<void> {
    await transitionRun(this.o.prisma, { runId, to: "cancelled", actor, reason });
    this.active.get(runId)?.abort.abort();
  }

  /** Continues a paused, failed or cancelled run from its last checkpoint, as the same run. */
  async resume(runId: string, actor: string): Promise<void> {
    await transitionRun(this.o.prisma, { runId, to: "queued", actor, reason: "resume from the last checkpoint" });
    await this.submit(runId);
  }

  activeRuns(): string[] {
    return [...this.active.keys()];
  }

  async queueDepth(pool: string): Promise<number> {
    return this.o.queue.depth(pool);
  }

  /** Stops taking runs, lets each active attempt finish its step, checkpoint and pause. */
  async shutdown(timeoutMs = 120_000): Promise<void> {
    this.stopping = true;
    const all = Promise.allSettled([...this.active.values()].map((a) => a.done));
    const timer = new Promise((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([all, timer]);
    for (const a of this.active.values()) a.abort.abort();
    await this.o.queue.stop();
  }

  private async attempt(job: QueuedRun): Promise<void> {
    const { prisma } = this.o;
    const run = await prisma.run.findUnique({ where: { id: job.runId } });
    // Cancelled (or resumed into a newer queueing) while it waited: nothing to do for this job.
    if (!run || (run.status !== "queued" && run.status !== "provisioning")) return;
    if (this.stopping || this.active.has(run.id)) return;
    const pool = findPool(this.o.admin, run.poolName);
    if (!pool) {
      await transitionRun(prisma, { runId: run.id, to: "failed", actor: "scheduler", reason: `pool "${run.poolName}" is not configured` });
      return;
    }
    const abort = new AbortController();
    const deadline = Date.now() + this.o.queue.sliceMs;
    const done = executeRunAttempt(
      {
        prisma,
        checkpoints: this.o.checkpoints,
        workers: this.o.workersFor(pool),
        executor: this.o.executor,
        seedsRoot: this.o.seedsRoot,
        onStep: this.o.onStep,
        onSeeding: this.o.onSeeding,
        learnabilitySampleRate: this.o.learnabilitySampleRate,
      },
      run.id,
      { signal: abort.signal, stopRequested: () => (this.stopping ? SHUTDOWN_REASON : Date.now() > deadline ? SLICE_REASON : undefined) },
    );
    this.active.set(run.id, { abort, done });
    try {
      const end = await done;
      this.o.log?.(`run ${run.id}: attempt ended ${end}`);
      if (end === "paused" && !this.stopping) {
        const queued = await transitionRun(prisma, { runId: run.id, to: "queued", actor: "scheduler", reason: "continuing after the time slice" });
        await this.o.queue.enqueue({ runId: run.id, pool: pool.name, priority: queued.priority, queuedAt: queued.queuedAt });
      }
    } finally {
      this.active.delete(run.id);
    }
  }

  private async recover(): Promise<void> {
    const { prisma, queue } = this.o;
    if ("failOrphans" in queue && typeof queue.failOrphans === "function") await (queue.failOrphans as () => Promise<number>)();
    const interrupted: RunStatus[] = ["running", "checkpointing"];
    for (const run of await prisma.run.findMany({ where: { status: { in: interrupted } } })) {
      await transitionRun(prisma, { runId: run.id, to: "provisioning", actor: "server", reason: "the server restarted mid-step; relaunching from the last checkpoint" });
    }
    const pausedByShutdown = await prisma.run.findMany({
      where: { status: "paused", events: { some: {} } },
      include: { events: { where: { kind: "transition" }, orderBy: { id: "desc" }, take: 1 } },
    });
    for (const run of pausedByShutdown) {
      const last = run.events[0];
      if (last?.toStatus === "paused" && (last.message === SHUTDOWN_REASON || last.message === SLICE_REASON)) {
        await transitionRun(prisma, { runId: run.id, to: "queued", actor: "server", reason: "continuing after the server restart" });
      }
    }
    const pending = await prisma.run.findMany({ where: { status: { in: ["queued", "provisioning"] } }, orderBy: [{ priority: "desc" }, { queuedAt: "asc" }] });
    for (const run of pending) {
      if (!findPool(this.o.admin, run.poolName)) {
        await transitionRun(prisma, { runId: run.id, to: "failed", actor: "scheduler", reason: `pool "${run.poolName}" is no longer configured` });
        continue;
      }
      // A relaunch gets a fresh queueing key; a queued run keeps its own, so re-sending is a no-op.
      const queuedAt = run.status === "queued" ? run.queuedAt : run.updatedAt;
      await queue.enqueue({ runId: run.id, pool: run.poolName, priority: run.priority, queuedAt });
    }
  }
}
