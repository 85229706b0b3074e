// bench/control-plane: the control plane's own time per reference-size AZR step (64 trajectories
// per task-type × role group, 8 learnability attempts per valid proposal, K = 6, 10 induction
// inputs) on PostgreSQL, driven by the recorded-responses policy (a test double: no model here).
// Split: TypeScript compute, database writes, executor time. Target: compute + writes < 1 s.
// Baseline in the same run: the same step's rows written one INSERT at a time (no batching).
//
//   npx tsx bench/control-plane/run.ts [--steps 3]
import { defaultRunConfig } from "@azr/azr";
import { createTestDatabase } from "@azr/db/testing";
import { BwrapBackend, ExecutorPool } from "@azr/executor";
import { StepEngine, recordStep, stepMetrics, type StepOutcome } from "@azr/orchestrator";
import { initialState } from "@azr/azr";
import { RecordedResponsesPolicy } from "../../packages/orchestrator/src/testing/recorded-policy.ts";
import { benchArgs } from "../options.ts";

const steps = benchArgs(import.meta.url, { steps: { type: "string" } }).number("steps", 3, { min: 1, max: 100 });
const config = defaultRunConfig(); // reference defaults: batch 64, n = 8, K = 6, 10 induction inputs
const tdb = await createTestDatabase("postgres");
const db = await tdb.open();
const executor = await new ExecutorPool(new BwrapBackend()).start();
const owner = await db.prisma.user.create({ data: { name: "bench" } });
const mkRun = (name: string) =>
  db.prisma.run.create({ data: { name, ownerId: owner.id, config: config as object, seed: 0n, poolName: "local", modelName: "tiny", totalSteps: steps } });
const run = await mkRun("batched");
const baselineRun = await mkRun("row-by-row");

const engine = new StepEngine({ config, policy: new RecordedResponsesPolicy(), executor, learnabilitySampleRate: 0.1 });
let state = initialState(config);
const rows: Record<string, number>[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function writeRowByRow(outcome: StepOutcome, runId: string) {
  const t = Date.now();
  await db.prisma.step.create({ data: { runId, index: outcome.step, startedAt: new Date(), finishedAt: new Date(), timings: outcome.timings as object } });
  for (const r of outcome.rollouts) {
    await db.prisma.rollout.create({
      data: { runId, step: outcome.step, taskType: r.taskType, role: r.role, purpose: r.purpose, prompt: r.prompt, response: r.response, valid: r.valid, reward: r.reward, advantage: r.advantage, promptTokens: r.promptTokens, responseTokens: r.responseTokens },
    });
  }
  for (const [key, value] of Object.entries(stepMetrics(outcome))) {
    const series = await db.prisma.metricSeries.upsert({ where: { runId_key: { runId, key } }, create: { runId, key }, update: {} });
    await db.prisma.metricPoint.create({ data: { seriesId: series.id, step: outcome.step, wallTime: new Date(), value } });
  }
  return Date.now() - t;
}

for (let i = 0; i < steps; i++) {
  const outcome = await engine.run(state);
  const t = Date.now();
  const metrics = stepMetrics(outcome);
  const metricsMs = Date.now() - t;
  const w = Date.now();
  const phases = await recordStep(db.prisma, { runId: run.id, step: outcome.step, startedAt: new Date(), finishedAt: new Date(), timings: { ...outcome.timings }, metrics, rollouts: outcome.rollouts, added: outcome.added });
  const writeMs = Date.now() - w;
  const baselineWriteMs = await writeRowByRow(outcome, baselineRun.id);
  const { planMs, generateMs, executeMs, trainMs, totalMs } = outcome.timings;
  rows.push({
    step: outcome.step,
    computeMs: totalMs - generateMs - executeMs - trainMs + metricsMs,
    planMs,
    executeMs,
    dbWriteMs: writeMs,
    ...Object.fromEntries(Object.entries(phases).map(([k, v]) => [`db_${k}Ms`, v])),
    baselineRowByRowWriteMs: baselineWriteMs,
    rollouts: outcome.rollouts.length,
  });
  state = outcome.next;
}

const metrics = executor.metrics();
const computeMs = median(rows.map((r) => r.computeMs!));
const dbWriteMs = median(rows.map((r) => r.dbWriteMs!));
console.log(
  JSON.stringify(
    {
      bench: "control-plane",
      database: "postgresql 127.0.0.1:5432",
      policy: "recorded-responses (test double)",
      stepShape: { groupSize: config.azr.batchSize, learnabilitySamples: config.azr.learnabilitySamples, references: config.azr.references, inductionInputs: config.azr.inductionInputs },
      steps: rows,
      median: {
        computeMs,
        dbWriteMs,
        computePlusWritesMs: computeMs + dbWriteMs,
        executeMs: median(rows.map((r) => r.executeMs!)),
        baselineRowByRowWriteMs: median(rows.map((r) => r.baselineRowByRowWriteMs!)),
      },
      targetComputePlusWritesMs: 1000,
      meetsTarget: computeMs + dbWriteMs < 1000,
      executor: { jobsPerSecond: metrics.jobsPerSecond, p50Ms: metrics.latencyMs.p50, p99Ms: metrics.latencyMs.p99 },
    },
    null,
    2,
  ),
);
await executor.close();
await db.close();
await tdb.drop();
