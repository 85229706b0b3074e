import type { Prisma, PrismaClient } from "@azr/db";
import type { TaskRecord, TaskType } from "@azr/azr";
import type { RolloutRecord } from "./step-engine.ts";

// Everything a step leaves in the database is written in ONE transaction, so a step is either
// recorded whole or not at all (a server killed mid-step leaves no partial step behind).

export interface StepWrite {
  runId: string;
  step: number;
  startedAt: Date;
  finishedAt: Date;
  timings: Record<string, number>;
  metrics: Record<string, number>;
  rollouts: RolloutRecord[];
  added: { type: TaskType; task: TaskRecord }[];
}

/** PostgreSQL text cannot hold NUL; model output can. Stored as U+FFFD so the row still says
 * where the byte was. */
export function storableText(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
}

export function storableJson(value: unknown): Prisma.InputJsonValue | undefined {
  if (value === null || value === undefined) return undefined;
  return JSON.parse(storableText(JSON.stringify(value)).replaceAll("\\u0000", "\\ufffd")) as Prisma.InputJsonValue;
}

export function bufferEntryData(runId: string, type: TaskType, task: TaskRecord, stepAdded: number, origin: "seed" | "proposed" | "imported"): Prisma.BufferEntryCreateManyInput {
  return task.kind === "induction"
    ? { runId, taskType: type, program: task.snippet, imports: task.imports, inputs: task.inputs, outputs: task.outputs, message: task.message, stepAdded, origin }
    : { runId, taskType: type, program: task.snippet, imports: task.imports, input: task.input, output: task.output, stepAdded, origin };
}

export async function writeMetricPoints(tx: Prisma.TransactionClient, runId: string, step: number, wallTime: Date, metrics: Record<string, number>): Promise<void> {
  const keys = Object.keys(metrics);
  if (!keys.length) return;
  await tx.metricSeries.createMany({ data: keys.map((key) => ({ runId, key })), skipDuplicates: true });
  const series = await tx.metricSeries.findMany({ where: { runId, key: { in: keys } }, select: { id: true, key: true } });
  await tx.metricPoint.createMany({ data: series.map((s) => ({ seriesId: s.id, step, wallTime, value: metrics[s.key]! })) });
  // Latest value and count per series in one statement (Prisma has no bulk update of distinct values).
  await tx.$executeRawUnsafe(
    `UPDATE "MetricSeries" s SET "lastStep" = $2, "lastValue" = v.value, "count" = s."count" + 1
       FROM unnest($3::int[], $4::float8[]) AS v(id, value) WHERE s.id = v.id AND s."runId" = $1`,
    runId,
    step,
    series.map((s) => s.id),
    series.map((s) => metrics[s.key]!),
  );
}

/** Writes the step; returns how long each part took (ms), for the step-time breakdown. */
export async function recordStep(prisma: PrismaClient, w: StepWrite): Promise<Record<string, number>> {
  const phases: Record<string, number> = {};
  const timed = async (name: string, f: () => Promise<unknown>) => {
    const t = performance.now();
    await f();
    phases[name] = Math.round(performance.now() - t);
  };
  await prisma.$transaction(
    async (tx) => {
      await timed("step", () =>
        tx.step.create({
          data: {
            runId: w.runId,
            index: w.step,
            startedAt: w.startedAt,
            finishedAt: w.finishedAt,
            durationMs: w.finishedAt.getTime() - w.startedAt.getTime(),
            timings: w.timings,
          },
        }),
      );
      if (w.rollouts.length) await timed("rollouts", () => insertRollouts(tx, w.runId, w.step, w.rollouts));
      if (w.added.length) await timed("buffer", () => tx.bufferEntry.createMany({ data: w.added.map((a) => bufferEntryData(w.runId, a.type, a.task, w.step, "proposed")) }));
      await timed("metrics", () => writeMetricPoints(tx, w.runId, w.step, w.finishedAt, w.metrics));
      await timed("run", () => tx.run.update({ where: { id: w.runId }, data: { currentStep: w.step } }));
    },
    { timeout: 60_000 },
  );
  return phases;
}

/** One INSERT … SELECT FROM unnest(...) for the step's rollouts: a step writes ~500 rows of a
 * few KB each, and Prisma's createMany took 0.5–1.8 s for them against ~0.1 s for this
 * (bench/control-plane). */
async function insertRollouts(tx: Prisma.TransactionClient, runId: string, step: number, rollouts: RolloutRecord[]): Promise<void> {
  const col = <T>(f: (r: RolloutRecord) => T) => rollouts.map(f);
  await tx.$executeRawUnsafe(
    `INSERT INTO "Rollout" ("runId", step, "taskType", role, purpose, prompt, response, parsed, valid, "invalidReason",
                            "executorStatus", reward, advantage, "promptTokens", "responseTokens")
     SELECT $1, $2, u.task_type::"TaskType", u.role::"TaskRole", u.purpose::"RolloutPurpose", u.prompt, u.response,
            u.parsed::jsonb, u.valid, u.invalid_reason, u.executor_status, u.reward, u.advantage, u.prompt_tokens, u.response_tokens
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::boolean[], $10::text[],
                   $11::text[], $12::float8[], $13::float8[], $14::int[], $15::int[])
            AS u(task_type, role, purpose, prompt, response, parsed, valid, invalid_reason, executor_status, reward, advantage,
                 prompt_tokens, response_tokens)`,
    runId,
    step,
    col((r) => r.taskType),
    col((r) => r.role),
    col((r) => r.purpose),
    col((r) => storableText(r.prompt)),
    col((r) => storableText(r.response)),
    col((r) => (r.parsed === null ? null : JSON.stringify(storableJson(r.parsed)))),
    col((r) => r.valid),
    col((r) => (r.invalidReason === null ? null : storableText(r.invalidReason))),
    col((r) => r.executorStatus),
    col((r) => r.reward),
    col((r) => r.advantage),
    col((r) => r.promptTokens),
    col((r) => r.responseTokens),
  );
}

/** Removes what steps after `step` left behind, before they are re-run from a checkpoint at
 * `step`: the run then records each step exactly once. */
export async function discardStepsAfter(prisma: PrismaClient, runId: string, step: number): Promise<number> {
  return prisma.$transaction(async (tx) => {
    const removed = await tx.step.deleteMany({ where: { runId, index: { gt: step } } });
    await tx.rollout.deleteMany({ where: { runId, step: { gt: step } } });
    await tx.bufferEntry.deleteMany({ where: { runId, stepAdded: { gt: step } } });
    await tx.$executeRawUnsafe(
      `DELETE FROM "MetricPoint" p USING "MetricSeries" s WHERE p."seriesId" = s.id AND s."runId" = $1 AND p.step > $2`,
      runId,
      step,
    );
    await tx.$executeRawUnsafe(
      `UPDATE "MetricSeries" s SET "count" = c.n, "lastStep" = c.last_step,
              "lastValue" = (SELECT value FROM "MetricPoint" p WHERE p."seriesId" = s.id AND p.step = c.last_step)
         FROM (SELECT s2.id, count(p.step)::int AS n, max(p.step) AS last_step
                 FROM "MetricSeries" s2 LEFT JOIN "MetricPoint" p ON p."seriesId" = s2.id
                WHERE s2."runId" = $1 GROUP BY s2.id) c
        WHERE s.id = c.id`,
      runId,
    );
    // Periodic evaluations of discarded steps are re-run with them.
    await tx.evalResult.deleteMany({ where: { runId, origin: "periodic", step: { gt: step } } });
    await tx.run.update({ where: { id: runId }, data: { currentStep: step } });
    return removed.count;
  });
}
