import type { PrismaClient, Run } from "@azr/db";
import { createBuffers, initialState, parseRunConfig, TASK_TYPES, type AzrState, type RunConfig, type SeedingRound } from "@azr/azr";
import type { CheckpointStore, ModelSaver } from "./checkpoints.ts";
import { captureReproducibility, type WorkerDescription } from "./reproducibility.ts";
import { stepMetrics } from "./metrics.ts";
import type { Policy } from "./policy.ts";
import { logRunEvent, transitionRun } from "./run-lifecycle.ts";
import { loadSeedImport, type ImportedSeeds } from "./seed-import.ts";
import { StepEngine, type Executor, type SeedingOutcome, type StepOutcome } from "./step-engine.ts";
import { bufferEntryData, discardStepsAfter, recordStep, writeMetricPoints } from "./step-store.ts";
import { BenchmarkCatalog } from "./eval-benchmarks.ts";
import { evalExecutors, type EvalExecutor, type EvalExecutors } from "./eval-runner.ts";
import { periodicEvalDue, runPeriodicEval, type PeriodicEvalOutcome } from "./periodic-eval.ts";

// One attempt at a run: get a worker, restore the newest checkpoint (or start from the seeds),
// run steps until done, checkpointing on the way. Everything it leaves behind is recorded so
// that another attempt — after a worker crash, a server restart or a user's resume — continues
// exactly where the last checkpoint left off.

/** A worker ready to serve one run attempt. */
export interface WorkerSession {
  policy: Policy;
  saver: ModelSaver;
  /** Loads the run's model, from a checkpoint's model directory when given. */
  load(checkpointModelDir: string | undefined): Promise<void>;
  /** Rejects when the worker dies; never resolves otherwise while it lives. */
  died: Promise<never>;
  /** Backend, versions and devices the worker reported, for the reproducibility record. */
  describe?(): WorkerDescription;
  close(): Promise<void>;
}

export type WorkerFactory = (run: Run, config: RunConfig) => Promise<WorkerSession>;

export interface StepProgress {
  runId: string;
  step: number;
  totalSteps: number;
  outcome: StepOutcome;
  metrics: Record<string, number>;
}

export interface SeedingProgress {
  runId: string;
  round: SeedingRound;
}

export interface AttemptDeps {
  prisma: PrismaClient;
  checkpoints: CheckpointStore;
  workers: WorkerFactory;
  /** The sandbox pool: the steps' programs and periodic evaluations' scoring. */
  executor: Executor & EvalExecutor;
  /** Absolute directory that run configs may name seed files in (admin config `seeds.root`). */
  seedsRoot?: string;
  onStep?: (p: StepProgress) => void;
  /** After each proposer batch of the seeding stage. */
  onSeeding?: (p: SeedingProgress) => void;
  learnabilitySampleRate?: number;
  /** Relaunches of a lost worker within one attempt before the run fails (default 2). */
  maxRelaunches?: number;
  /** Benchmarks for the run config's periodic evaluation (default: the built-in ones). */
  benchmarks?: BenchmarkCatalog;
  /** Pools that score periodic evaluations (default: `executor` for every benchmark, which
   * cannot score math: that needs the runtime's scoring pool). */
  evalExecutors?: EvalExecutors;
  /** After a periodic evaluation: its scores, recorded as metrics of the step. */
  onEval?: (p: { runId: string; step: number; outcomes: PeriodicEvalOutcome[] }) => void;
}

export type AttemptEnd = "completed" | "cancelled" | "paused" | "failed";

export class AttemptAborted extends Error {
  constructor() {
    super("the run was cancelled");
  }
}

export interface AttemptControl {
  /** Cancel: aborts at once, mid-step; the worker is stopped. */
  signal: AbortSignal;
  /** Graceful stop, checked between steps: returns why (server shutdown, time slice over) to have
   * the run checkpointed and paused, undefined to go on. */
  stopRequested: () => string | undefined;
}

/** The worker went away (process died, connection lost, heartbeats stopped). */
export class WorkerLostError extends Error {
  override name = "WorkerLostError";
}

function isWorkerLoss(e: unknown): boolean {
  if (e instanceof WorkerLostError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return code === "disconnected" || code === "closed";
}

/** Runs `runId` (queued, or provisioning for a relaunch) until it ends, is cancelled, or a
 * graceful stop pauses it. A lost worker is relaunched from the last checkpoint up to
 * `maxRelaunches` times; run failures end as status `failed`, never as a throw. */
export async function executeRunAttempt(deps: AttemptDeps, runId: string, control: AttemptControl): Promise<AttemptEnd> {
  const { prisma } = deps;
  const run = await prisma.run.findUniqueOrThrow({ where: { id: runId } });
  const parsed = parseRunConfig(run.config);
  if (!parsed.ok) {
    await transitionRun(prisma, { runId, to: "failed", actor: "orchestrator", reason: `stored config is invalid: ${parsed.errors.join("; ")}` });
    return "failed";
  }
  if (run.status !== "provisioning") await transitionRun(prisma, { runId, to: "provisioning", actor: "scheduler", reason: `capacity in pool ${run.poolName}` });
  const maxRelaunches = deps.maxRelaunches ?? 2;
  for (let launch = 0; ; launch++) {
    try {
      return await launchOnce(deps, run, parsed.config, control);
    } catch (e) {
      if (e instanceof AttemptAborted) return "cancelled";
      const reason = e instanceof Error ? e.message : String(e);
      if (isWorkerLoss(e) && launch < maxRelaunches) {
        await transitionRun(prisma, { runId, to: "provisioning", actor: "orchestrator", reason: `worker lost (${reason}); relaunching from the last checkpoint (${launch + 1}/${maxRelaunches})` });
        continue;
      }
      const why = isWorkerLoss(e) ? `worker lost ${launch + 1} times; last: ${reason}` : reason;
      await transitionRun(prisma, { runId, to: "failed", actor: "orchestrator", reason: why }).catch(() => {});
      return "failed";
    }
  }
}

async function launchOnce(deps: AttemptDeps, run: Run, config: RunConfig, control: AttemptControl): Promise<AttemptEnd> {
  const { prisma } = deps;
  const runId = run.id;
  const { signal } = control;
  let session: WorkerSession | undefined;
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(new AttemptAborted());
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  const guard = <T>(p: Promise<T>): Promise<T> => Promise.race([p, aborted, ...(session ? [session.died] : [])]);
  // Set when this launch ends: work a guard left running (a seeding stage whose worker died)
  // must not write anything after that.
  let ended = false;

  try {
    await deps.checkpoints.sweep(runId);
    // Where this attempt starts: the run's own newest checkpoint; for a fork without one yet, the
    // parent's checkpoint it was forked from; otherwise the seed buffers.
    const own = await deps.checkpoints.latest(runId);
    const parent = !own && run.parentCheckpointId ? await parentCheckpoint(deps, run.parentCheckpointId) : undefined;
    const start = own ?? parent;
    const mode = own ? "resume" : parent ? "fork" : "fresh";
    // Only a fresh run is seeded; imported seeds are read before a worker is launched, so a bad
    // file fails the run at once, before any buffer row is written.
    const seedSource = mode === "fresh" ? config.azr.seedSource : undefined;
    const imported = seedSource === "import" ? loadSeedImport(config, deps.seedsRoot) : undefined;
    // Fresh row: the provisioning transition just counted this launch in `attempt`.
    session = await guard(deps.workers(await prisma.run.findUniqueOrThrow({ where: { id: runId } }), config));
    await guard(session.load(start ? `${start.row.location}/model` : undefined));
    let current: AzrState = start ? start.state : initialState(config, imported ?? {});
    await prisma.run.update({ where: { id: runId }, data: { reproducibility: captureReproducibility(session.describe?.() ?? null) as object } });
    if (seedSource === "generate") await discardStepsAfter(prisma, runId, 0);
    else await prepareDatabaseFor(prisma, runId, current, mode, imported ? { origin: "imported", metrics: bufferFigures(current) } : undefined);
    if (imported) await logRunEvent(prisma, runId, { actor: "orchestrator", message: importSummary(imported, current), data: { seeding: { source: "import", ...bufferFigures(current) } } });
    await transitionRun(prisma, {
      runId,
      to: "running",
      actor: "orchestrator",
      reason: own
        ? `resumed from the checkpoint of step ${own.row.step}`
        : parent
          ? `forked from run ${parent.row.runId} at step ${parent.row.step}`
          : seedSource === "generate"
            ? "worker ready; seeding the buffers with the policy"
            : `worker ready; starting from the ${imported ? "imported " : ""}seed buffers`,
    });

    const engine = new StepEngine({ config, policy: session.policy, executor: deps.executor, learnabilitySampleRate: deps.learnabilitySampleRate });
    if (seedSource === "generate") {
      const seeded = await guard(
        engine.seed(current.rng, async (round) => {
          if (ended) throw new AttemptAborted();
          deps.onSeeding?.({ runId, round });
          await logRunEvent(prisma, runId, { actor: "orchestrator", message: roundSummary(round), data: { seeding: { ...round } } });
        }),
      );
      current = await recordSeeding(prisma, runId, config, seeded);
    }
    const total = config.schedule.totalSteps;
    while (current.step <= total) {
      const stopReason = control.stopRequested();
      if (stopReason) {
        await checkpoint(deps, runId, current, session, stopReason);
        await transitionRun(prisma, { runId, to: "paused", actor: "orchestrator", reason: stopReason });
        return "paused";
      }
      const startedAt = new Date();
      const outcome: StepOutcome = await guard(engine.run(current));
      const metrics = stepMetrics(outcome);
      const dbStarted = Date.now();
      const dbPhases = await recordStep(prisma, {
        runId,
        step: outcome.step,
        startedAt,
        finishedAt: new Date(),
        timings: { ...outcome.timings },
        metrics,
        rollouts: outcome.rollouts,
        added: outcome.added,
      });
      // The write's own duration is known only after it: added to the step's breakdown here.
      const databaseMs = Date.now() - dbStarted;
      await prisma.step.update({
        where: { runId_index: { runId, index: outcome.step } },
        data: { timings: { ...outcome.timings, databaseMs, database: dbPhases } },
      });
      current = outcome.next;
      deps.onStep?.({ runId, step: outcome.step, totalSteps: total, outcome, metrics });
      if (outcome.step % config.schedule.checkpointInterval === 0 || outcome.step === total) {
        await checkpoint(deps, runId, current, session, `step ${outcome.step}`);
      }
      // After the checkpoint, so the evaluation row links to it when the step has one.
      if (periodicEvalDue(config.eval, outcome.step)) {
        const outcomes = await runPeriodicEval(
          { prisma, executors: deps.evalExecutors ?? evalExecutors(deps.executor, async () => deps.executor), benchmarks: deps.benchmarks ?? new BenchmarkCatalog() },
          run,
          config.eval,
          session.policy,
          outcome.step,
          { guard, isFatal: (e) => e instanceof AttemptAborted || isWorkerLoss(e) },
        );
        deps.onEval?.({ runId, step: outcome.step, outcomes });
      }
    }
    await transitionRun(prisma, { runId, to: "completed", actor: "orchestrator", reason: `all ${total} steps done` });
    return "completed";
  } finally {
    ended = true;
    await session?.close().catch(() => {});
  }
}

function roundSummary(r: SeedingRound): string {
  const kind = r.part === "triplets" ? "triplet" : "induction";
  return `seeding ${kind} round ${r.round}/${r.maxRounds}: ${r.valid}/${r.proposed} proposals valid, ${r.added} new; ${r.size}/${r.target} ${kind} seeds`;
}

/** Buffer sizes a fresh run starts with, as metrics at step 0. */
function bufferFigures(state: AzrState): Record<string, number> {
  return { "seeding/triplets": state.buffers.deduction.size, "seeding/induction": state.buffers.induction.size };
}

function importSummary(imported: ImportedSeeds, state: AzrState): string {
  const part = (kind: string, size: number, report: ImportedSeeds["sources"]["triplets"]) =>
    report
      ? `${size} ${kind} seeds from ${report.source} (${report.rows} rows${report.rows > size ? `; ${report.rows - size} exact duplicates or beyond maxPrograms dropped` : ""})`
      : `the built-in ${kind} seed`;
  return `imported ${part("triplet", state.buffers.deduction.size, imported.sources.triplets)} and ${part("induction", state.buffers.induction.size, imported.sources.induction)}`;
}

export class SeedingShortfallError extends Error {
  override name = "SeedingShortfallError";
}

/** The seeding stage's result becomes the run's buffers, or the run fails. The reference
 * (`_init_seed_dataset`) proposes until the target is reached and never trains on a partial
 * seed set; the round cap is ours, so reaching it fails the run rather than training on fewer
 * seeds than asked for. */
async function recordSeeding(prisma: PrismaClient, runId: string, config: RunConfig, seeded: SeedingOutcome): Promise<AzrState> {
  const { result: r, timings } = seeded;
  const figures: Record<string, number> = {
    "seeding/triplets": r.triplets.length,
    "seeding/induction": r.induction.length,
    "seeding/triplet_rounds": r.rounds.triplets,
    "seeding/induction_rounds": r.rounds.induction,
    "seeding/generate_ms": timings.generateMs,
    "seeding/execute_ms": timings.executeMs,
    "seeding/total_ms": timings.totalMs,
  };
  if (r.proposed.triplets > 0) figures["seeding/triplet_valid_rate"] = r.valid.triplets / r.proposed.triplets;
  if (r.proposed.induction > 0) figures["seeding/induction_valid_rate"] = r.valid.induction / r.proposed.induction;
  const parts = `${r.triplets.length}/${r.target} triplet seeds in ${r.rounds.triplets} rounds (${r.valid.triplets}/${r.proposed.triplets} proposals valid), ${r.induction.length}/${r.target} induction seeds in ${r.rounds.induction} rounds (${r.valid.induction}/${r.proposed.induction} valid)`;
  if (!r.complete) {
    await logRunEvent(prisma, runId, { level: "warn", actor: "orchestrator", message: `seeding fell short: ${parts}`, data: { seeding: figures } });
    throw new SeedingShortfallError(
      `seeding stopped after ${config.azr.seedMaxRounds} proposer batches per part short of its target: ${parts}; ` +
        "raise azr.seedMaxRounds, or start from azr.seedSource 'identity' or 'import'",
    );
  }
  const state: AzrState = { step: 1, rng: r.rng, buffers: createBuffers(config.azr.maxPrograms, r) };
  await prepareDatabaseFor(prisma, runId, state, "fresh", { origin: "seed", metrics: figures });
  await logRunEvent(prisma, runId, { actor: "orchestrator", message: `seeded the buffers with the policy: ${parts}, ${(timings.totalMs / 1000).toFixed(1)} s`, data: { seeding: figures } });
  return state;
}

async function checkpoint(deps: AttemptDeps, runId: string, state: AzrState, session: WorkerSession, why: string) {
  const current = await deps.prisma.run.findUniqueOrThrow({ where: { id: runId }, select: { status: true } });
  if (current.status === "running") await transitionRun(deps.prisma, { runId, to: "checkpointing", actor: "orchestrator", reason: why });
  const row = await deps.checkpoints.save(runId, state, session.saver);
  if (current.status === "running") await transitionRun(deps.prisma, { runId, to: "running", actor: "orchestrator", reason: `checkpoint of step ${row.step} saved` });
  await logRunEvent(deps.prisma, runId, { actor: "orchestrator", message: `checkpoint step ${row.step} (${row.sizeBytes} bytes)`, data: { checkpointId: row.id } });
}

/** Makes the database agree with the state the attempt starts from: steps after it are
 * discarded (they will be re-run); a fresh run gets its seed entries (with the seeding figures
 * at step 0), a fork a copy of the buffers it inherits. The entries and figures are replaced in
 * one transaction, so a relaunch that seeds again never leaves a mix of two seedings. */
async function prepareDatabaseFor(
  prisma: PrismaClient,
  runId: string,
  state: AzrState,
  mode: "fresh" | "resume" | "fork",
  seeds: { origin: "seed" | "imported"; metrics?: Record<string, number> } = { origin: "seed" },
) {
  await discardStepsAfter(prisma, runId, state.step - 1);
  if (mode === "resume") return;
  await prisma.$transaction(
    async (tx) => {
      await tx.bufferEntry.deleteMany({ where: { runId } });
      await tx.bufferEntry.createMany({
        data: TASK_TYPES.flatMap((type) =>
          state.buffers[type].entries().map((e) => bufferEntryData(runId, type, e.task, e.step, e.step === 0 ? seeds.origin : mode === "fork" ? "imported" : "proposed")),
        ),
      });
      await tx.metricSeries.deleteMany({ where: { runId, key: { startsWith: "seeding/" } } });
      if (mode === "fresh" && seeds.metrics) await writeMetricPoints(tx, runId, 0, new Date(), seeds.metrics);
    },
    { timeout: 120_000 },
  );
}

async function parentCheckpoint(deps: AttemptDeps, checkpointId: string) {
  const row = await deps.prisma.checkpoint.findUnique({ where: { id: checkpointId } });
  if (!row || row.deletedAt) throw new Error(`the checkpoint this run was forked from (${checkpointId}) no longer exists`);
  const loaded = deps.checkpoints.load(row);
  if (!loaded) throw new Error(`the checkpoint this run was forked from is missing its files at ${row.location}`);
  return { row, ...loaded };
}
