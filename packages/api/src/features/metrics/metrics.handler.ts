import type { SqlSession } from "@azr/db";
import type { z } from "zod";
import type { latestInput, seriesInput } from "./metrics.schema.ts";

export interface Bucket {
  /** first x (step or epoch ms) in the bucket */
  x: number;
  /** last x in the bucket */
  xEnd: number;
  min: number;
  max: number;
  mean: number;
  count: number;
}

export interface Series {
  runId: string;
  key: string;
  /** points stored for the series in the requested range */
  total: number;
  buckets: Bucket[];
}

type SeriesRow = { sid: number; runId: string; key: string; lo: number | null; hi: number | null };

/**
 * Server-side downsampling: each series' x range is cut into `points` equal-width buckets and each
 * bucket returns min / max / mean / count, all computed in SQL. Min and max keep spikes visible
 * that plain averaging or striding would hide. The series bounds come from the (seriesId, step)
 * or (seriesId, wallTime) index, and the aggregation is one index range scan per series.
 */
export async function downsample(sql: SqlSession, input: z.output<typeof seriesInput>, opts: { sharedRange?: boolean } = {}): Promise<Series[]> {
  const time = input.axis === "time";
  const xExpr = time ? `(extract(epoch from p."wallTime") * 1000)::float8` : `p.step::float8`;
  const col = time ? `"wallTime"` : `step`;
  const bound = (agg: "min" | "max") =>
    time
      ? `(SELECT (extract(epoch from ${agg}(q."wallTime")) * 1000)::float8 FROM "MetricPoint" q WHERE q."seriesId" = s.id)`
      : `(SELECT ${agg}(q.step)::float8 FROM "MetricPoint" q WHERE q."seriesId" = s.id)`;
  // The range predicate is on the raw column so the index serves it; bucket numbers are computed
  // from the float x, clamped so the upper bound falls into the last bucket.
  const rangeLo = time ? `to_timestamp(b.lo / 1000.0)` : `floor(b.lo)::int`;
  const rangeHi = time ? `to_timestamp(b.hi / 1000.0)` : `ceil(b.hi)::int`;
  // One statement: the series and their bounds (from the index), then each series bucketed inside
  // its own LATERAL subquery — a parameterised index-only range scan on the (seriesId, step, value)
  // covering index, grouped in memory one series at a time. A series without points in range
  // still yields one row (LEFT JOIN) so it is reported, empty.
  const rows = await sql.query<SeriesRow & { bucket: number | null; x: number; xEnd: number; min: number; max: number; mean: number; count: number }>(
    `WITH s0 AS MATERIALIZED (
       SELECT s.id AS sid, s."runId" AS "runId", s.key AS key,
              COALESCE($3::float8, ${bound("min")}) AS lo, COALESCE($4::float8, ${bound("max")}) AS hi
         FROM "MetricSeries" s
        WHERE s."runId" = ANY($1::text[]) AND s.key = ANY($2::text[])
     ), b AS (
       -- sharedRange: every series on the union of their ranges, so bucket i means the same x everywhere
       SELECT sid, "runId", key, ${opts.sharedRange ? "min(lo) OVER ()" : "lo"} AS lo, ${opts.sharedRange ? "max(hi) OVER ()" : "hi"} AS hi FROM s0
     )
     SELECT b.sid, b."runId", b.key, b.lo, b.hi, a.bucket, a.x, a."xEnd", a.min, a.max, a.mean, a.count
       FROM b
       LEFT JOIN LATERAL (
         SELECT (CASE WHEN b.hi > b.lo THEN LEAST(floor((q.x - b.lo) / (b.hi - b.lo) * $5), $5 - 1) ELSE 0 END)::int AS bucket,
                min(q.x) AS x, max(q.x) AS "xEnd", min(q.value) AS min, max(q.value) AS max, avg(q.value) AS mean, count(*)::int AS count
           FROM (SELECT ${xExpr} AS x, p.value FROM "MetricPoint" p
                  WHERE p."seriesId" = b.sid AND p.${col} >= ${rangeLo} AND p.${col} <= ${rangeHi}) q
          WHERE q.x >= b.lo AND q.x <= b.hi
          GROUP BY 1
       ) a ON true
      ORDER BY b."runId", b.key, a.bucket`,
    [input.runIds, input.keys, input.from ?? null, input.to ?? null, input.points],
  );
  const out: Series[] = [];
  let current: Series | undefined;
  let currentSid: number | undefined;
  for (const r of rows) {
    if (r.sid !== currentSid) {
      currentSid = r.sid;
      current = { runId: r.runId, key: r.key, total: 0, buckets: [] };
      out.push(current);
    }
    if (r.bucket === null) continue;
    current!.buckets.push({ x: r.x, xEnd: r.xEnd, min: r.min, max: r.max, mean: r.mean, count: r.count });
    current!.total += r.count;
  }
  return out;
}

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
