import type { SqlSession } from "@azr/db";
import type { z } from "zod";
import type { latestInput } from "./metrics.schema.ts";

export interface LatestValue {
  runId: string;
  key: string;
  step: number | null;
  value: number | null;
  count: number;
}

/** Served from the series rows alone: the points table is not touched. */
export async function latest(sql: SqlSession, input: z.output<typeof latestInput>): Promise<LatestValue[]> {
  return sql.query<LatestValue & Record<string, unknown>>(
    `SELECT "runId", key, "lastStep" AS step, "lastValue" AS value, count
       FROM "MetricSeries"
      WHERE "runId" = ANY($1::text[]) AND ($2::text[] IS NULL OR key = ANY($2::text[]))
      ORDER BY "runId", key`,
    [input.runIds, input.keys ?? null],
  );
}

export async function metricKeys(sql: SqlSession, runIds: string[]): Promise<{ key: string; runs: number }[]> {
  return sql.query<{ key: string; runs: number }>(
    `SELECT key, count(DISTINCT "runId")::int AS runs FROM "MetricSeries" WHERE "runId" = ANY($1::text[]) GROUP BY key ORDER BY key`,
    [runIds],
  );
}

export interface StepPoints {
  step: number;
  wallTime: string;
  values: Record<string, number>;
}

/** Points of a run after `afterStep`, grouped by step (the live feed's unit). */
export async function pointsAfter(sql: SqlSession, runId: string, afterStep: number, keys: string[] | undefined, limit = 5000): Promise<StepPoints[]> {
  const rows = await sql.query<{ key: string; step: number; value: number; wallTime: string }>(
    `SELECT s.key, p.step, p.value, to_char(p."wallTime" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "wallTime"
       FROM "MetricSeries" s JOIN "MetricPoint" p ON p."seriesId" = s.id AND p.step > $2
      WHERE s."runId" = $1 AND ($3::text[] IS NULL OR s.key = ANY($3::text[]))
      ORDER BY p.step, s.key
      LIMIT $4`,
    [runId, afterStep, keys ?? null, limit],
  );
  const steps: StepPoints[] = [];
  for (const r of rows) {
    let last = steps[steps.length - 1];
    if (!last || last.step !== r.step) {
      last = { step: r.step, wallTime: r.wallTime, values: {} };
      steps.push(last);
    }
    last.values[r.key] = r.value;
  }
  // A LIMIT may cut the last step in two; leave it for the next read.
  if (rows.length === limit && steps.length > 1) steps.pop();
  return steps;
}
