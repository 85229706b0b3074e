import type { PrismaClient, RunStatus } from "@azr/db";
import { findPool, type AdminConfig, type PoolConfig } from "./admin-config.ts";
import type { CheckpointStore } from "./checkpoints.ts";
import type { BenchmarkCatalog } from "./eval-benchmarks.ts";
import { executeEvalJob, type EvalProgress, type EvalWorkerFactory } from "./eval-jobs.ts";
import { evalExecutors, type EvalExecutor, type EvalExecutors } from "./eval-runner.ts";
import { recoverEvals, transitionEval, tryTransitionEval } from "./eval-store.ts";
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
  /** The sandbox pool: runs' steps and evaluations' scoring. */
  executor: Executor & EvalExecutor;
  checkpoints: CheckpointStore;
  /** How workers are launched for a pool (local child process, container, Kubernetes Job). */
  workersFor(pool: PoolConfig): WorkerFactory;
  /** Absolute directory that run configs may name seed files in (admin config `seeds.root`). */
  seedsRoot?: string;
  onStep?: (p: StepProgress) => void;
  onSeeding?: (p: SeedingProgress) => void;
  log?: (line: string) => void;
  learnabilitySampleRate?: number;
  /** How eval jobs get their worker in a pool (the same launcher as the pool's runs); without
   * it, eval jobs fail with a message saying so. */
  evalWorkersFor?(pool: PoolConfig): EvalWorkerFactory;
  /** Benchmarks for eval jobs' and runs' periodic evaluation (default: the built-in ones). */
  benchmarks?: BenchmarkCatalog;
  /** Pools that score evaluations (default: `executor` for every benchmark; math needs a
   * scoring pool with sympy, which the runtime provides). */
  evalExecutors?: EvalExecutors;
  /** Each status change and progress report of an evaluation. */
  onEvalProgress?: (p: EvalProgress) => void;
}

interface ActiveAttempt {
  abort: AbortController;
  done: Promise<unknown>;
}

export class Orchestrator {
  private readonly active = new Map<string, ActiveAttempt>();
  private readonly activeEvalJobs = new Map<string, ActiveAttempt>();
  /** The running evaluations' own aborts, for cancel. */
  private readonly evalAborts = new Map<string, AbortController>();
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

  /** Puts an eval job (its queued evaluations) in its pool's queue; `queuedAt` keys this queueing
   * (default: when the job was created, so sending it twice is a no-op). */
  async submitEvalJob(jobId: string, queuedAt?: Date): Promise<void> {
    const first = await this.o.prisma.evalResult.findFirst({ where: { jobId, status: "queued" }, orderBy: { createdAt: "asc" } });
    if (!first) throw new Error(`eval job ${jobId} has no queued evaluation`);
    const pool = first.poolName ?? this.o.admin.pools[0]!.name;
    if (!findPool(this.o.admin, pool)) throw new Error(`eval job ${jobId} names pool "${pool}", which the admin configuration does not define`);
    await this.o.queue.enqueue({ runId: jobId, kind: "eval", pool, priority: first.priority, queuedAt: queuedAt ?? first.createdAt });
  }

  /** Cancels an evaluation: its status changes at once; if it is being evaluated, that stops
   * within moments (its job goes on with the next benchmark). */
  async cancelEval(evalId: string, actor: string, reason = "cancelled"): Promise<void> {
    const row = await transitionEval(this.o.prisma, evalId, "cancelled", { error: `${reason} (${actor})` });
    this.evalAborts.get(evalId)?.abort();
    this.o.onEvalProgress?.({ evalId, jobId: row.jobId, runId: row.runId, benchmark: row.benchmark, status: "cancelled", done: row.problemsDone, total: row.problemsTotal });
  }

  activeEvalJobIds(): string[] {
    return [...this.activeEvalJobs.keys()];
  }

  async queueDepth(pool: string): Promise<number> {
    return this.o.queue.depth(pool);
  }

  /** Stops taking runs, lets each active attempt finish its step, checkpoint and pause. */
  async shutdown(timeoutMs = 120_000): Promise<void> {
    this.stopping = true;
    // Evaluations do not wait: they are queued again at the next start and run from the start.
    for (const e of this.activeEvalJobs.values()) e.abort.abort();
    const all = Promise.allSettled([...this.active.values(), ...this.activeEvalJobs.values()].map((a) => a.done));
    const timer = new Promise((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([all, timer]);
    for (const a of this.active.values()) a.abort.abort();
    await this.o.queue.stop();
  }

  private async attempt(job: QueuedRun): Promise<void> {
    if (job.kind === "eval") return this.evalAttempt(job.runId);
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
        benchmarks: this.o.benchmarks,
        evalExecutors: this.evalExecutors(),
        onEval: (e) => {
          for (const o of e.outcomes) this.o.onEvalProgress?.({ evalId: o.evalId, jobId: null, runId: e.runId, benchmark: o.benchmark, status: o.status, done: o.problems, total: o.problems });
        },
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

  private evalExecutors(): EvalExecutors {
    return this.o.evalExecutors ?? evalExecutors(this.o.executor, async () => this.o.executor);
  }

  private async evalAttempt(jobId: string): Promise<void> {
    const { prisma } = this.o;
    const first = await prisma.evalResult.findFirst({ where: { jobId, status: "queued" }, orderBy: { createdAt: "asc" } });
    if (!first || this.stopping || this.activeEvalJobs.has(jobId)) return;
    const poolName = first.poolName ?? this.o.admin.pools[0]!.name;
    const pool = findPool(this.o.admin, poolName);
    const refuse = !pool ? `pool "${poolName}" is not configured` : !this.o.evalWorkersFor ? "this server launches no evaluation workers" : undefined;
    if (refuse) {
      for (const row of await prisma.evalResult.findMany({ where: { jobId, status: "queued" } })) await tryTransitionEval(prisma, row.id, "failed", { error: refuse });
      return;
    }
    const abort = new AbortController();
    const done = executeEvalJob({ prisma, executors: this.evalExecutors(), workers: this.o.evalWorkersFor!(pool!), onProgress: this.o.onEvalProgress }, jobId, {
      signal: abort.signal,
      register: (id, c) => this.evalAborts.set(id, c),
      unregister: (id) => this.evalAborts.delete(id),
    });
    this.activeEvalJobs.set(jobId, { abort, done });
    try {
      const end = await done;
      this.o.log?.(`eval job ${jobId}: ${end}`);
    } catch (e) {
      this.o.log?.(`eval job ${jobId}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.activeEvalJobs.delete(jobId);
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
    // Evaluations a stopped server left running are queued again; every pending job gets a fresh
    // queueing key (an old one may belong to a pg-boss job failed above as an orphan).
    for (const jobId of await recoverEvals(prisma)) {
      await this.submitEvalJob(jobId, new Date()).catch(async (e: unknown) => {
        const reason = e instanceof Error ? e.message : String(e);
        for (const row of await prisma.evalResult.findMany({ where: { jobId, status: "queued" } })) await tryTransitionEval(prisma, row.id, "failed", { error: reason });
      });
    }
  }
}
