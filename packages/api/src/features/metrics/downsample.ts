import type { SqlSession } from "@azr/db";
import type { z } from "zod";
import type { seriesInput } from "./metrics.schema.ts";

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

/**
 * How many stored points one request may read whole and bucket in this process; series beyond it
 * are bucketed by PostgreSQL. Reading points whole is cheaper than aggregating them in SQL (no
 * sort, no per-bucket aggregate state: 50 series of 2,000 steps took ~55 ms against ~75 ms,
 * bucketing included), but every point crosses the wire as 16 bytes (32 as hex text), so the
 * budget bounds what one request holds in memory (~12 MB) however long the runs are.
 */
export const WHOLE_POINTS_BUDGET = 250_000;

export interface DownsampleOptions {
  /** Every series on the union of their ranges, so bucket i means the same x everywhere. */
  sharedRange?: boolean;
  /** Overrides WHOLE_POINTS_BUDGET (tests use 0 and Infinity to force either path). */
  wholePointsBudget?: number;
  /** One statement per run, run concurrently (default); false: one statement for all (tests). */
  splitByRun?: boolean;
}

// Index bounds of the range scans, clamped so no `from`/`to` the schema accepts overflows the
// int or timestamp cast; the exact x filter still applies after them.
const INT_LO = -2147483648;
const INT_HI = 2147483647;
const EPOCH_S_LO = -2e11; // ~4400 BC, inside PostgreSQL's timestamp range
const EPOCH_S_HI = 9e12; // ~285000 AD

/** Epoch milliseconds of a wall time, as float8. Wall times are stored to the millisecond
 * (timestamp(3)), so rounding the float8 epoch gives the exact value that the numeric
 * `extract(epoch …) * 1000` gives, at a fraction of its cost per point. */
const epochMs = (col: string) => `round(date_part('epoch', ${col}) * 1000)`;

/** A series' first or last x, from the (seriesId, step) or (seriesId, wallTime) index. */
const seriesBound = (time: boolean, agg: "min" | "max") =>
  time
    ? `(SELECT ${epochMs(`${agg}(q."wallTime")`)} FROM "MetricPoint" q WHERE q."seriesId" = s.id)`
    : `(SELECT ${agg}(q.step)::float8 FROM "MetricPoint" q WHERE q."seriesId" = s.id)`;

type SeriesInput = z.output<typeof seriesInput>;

/**
 * Server-side downsampling: each series' x range is cut into `points` equal-width buckets and each
 * bucket reports min / max / mean / count. Min and max keep spikes visible that plain averaging or
 * striding would hide.
 *
 * Several runs are read by one statement per run, concurrently on as many pooled connections, so
 * PostgreSQL scans them on all its cores (a 5-run × 10-key compare: ~55 ms → ~37 ms). A first,
 * index-only statement gives the runs in response order, their point counts (for the budget) and,
 * for a shared range, its bounds; the results are what one statement over all runs returns.
 */
export async function downsample(sql: SqlSession, input: SeriesInput, opts: DownsampleOptions = {}): Promise<Series[]> {
  const budget = opts.wholePointsBudget ?? WHOLE_POINTS_BUDGET;
  if (new Set(input.runIds).size < 2 || opts.splitByRun === false) return downsampleStatement(sql, input, opts.sharedRange ?? false, budget);
  const time = input.axis === "time";
  const shared = opts.sharedRange ?? false;
  const runs = await sql.query<{ runId: string; n: number; lo: number | null; hi: number | null }>(
    `SELECT s."runId" AS "runId", sum(s.count)::float8 AS n,
            ${shared ? `min(${seriesBound(time, "min")})` : "NULL::float8"} AS lo, ${shared ? `max(${seriesBound(time, "max")})` : "NULL::float8"} AS hi
       FROM "MetricSeries" s
      WHERE s."runId" = ANY($1::text[]) AND s.key = ANY($2::text[])
      GROUP BY s."runId"
      ORDER BY s."runId"`,
    [input.runIds, input.keys],
  );
  // A shared range is the union of the series' ranges: fixed up front, every run gets it as from/to.
  const lo = shared ? (input.from ?? minOf(runs.map((r) => r.lo))) : input.from;
  const hi = shared ? (input.to ?? maxOf(runs.map((r) => r.hi))) : input.to;
  // The budget goes to series in response order, across runs as within one.
  let before = 0;
  const parts = runs.map((r) => {
    const left = budget - before;
    before += r.n;
    return downsampleStatement(sql, { ...input, runIds: [r.runId], from: lo ?? undefined, to: hi ?? undefined }, false, left);
  });
  return (await Promise.all(parts)).flat();
}

function minOf(xs: (number | null)[]): number | null {
  return xs.reduce<number | null>((m, x) => (x === null ? m : m === null ? x : Math.min(m, x)), null);
}
function maxOf(xs: (number | null)[]): number | null {
  return xs.reduce<number | null>((m, x) => (x === null ? m : m === null ? x : Math.max(m, x)), null);
}

/**
 * One statement reads every requested series with its bounds and either its points in range,
 * packed as binary doubles in x order (an index-only scan of the (seriesId, step, value) covering
 * index on the step axis), which `bucketPoints` buckets here, or, past the budget, its buckets
 * aggregated by PostgreSQL with the same arithmetic and summation order. Either way a series comes
 * back as one bytea value, so 50 series are 50 rows, not 25,000.
 */
async function downsampleStatement(sql: SqlSession, input: SeriesInput, sharedRange: boolean, budget: number): Promise<Series[]> {
  const time = input.axis === "time";
  const xExpr = time ? epochMs(`p."wallTime"`) : `p.step::float8`;
  const bound = (agg: "min" | "max") => seriesBound(time, agg);
  const rangeScan = time
    ? `p."wallTime" >= to_timestamp(LEAST(GREATEST(b.lo / 1000.0, ${EPOCH_S_LO}), ${EPOCH_S_HI})) AT TIME ZONE 'UTC'
       AND p."wallTime" <= to_timestamp(LEAST(GREATEST(b.hi / 1000.0, ${EPOCH_S_LO}), ${EPOCH_S_HI})) AT TIME ZONE 'UTC'`
    : `p.step >= LEAST(GREATEST(floor(b.lo), ${INT_LO}), ${INT_HI})::int AND p.step <= LEAST(GREATEST(ceil(b.hi), ${INT_LO}), ${INT_HI})::int`;
  // x order; on the time axis points may share a wall time, so the step breaks ties. Both paths sum
  // each bucket's values in this order, so their means agree to the bit.
  const order = time ? `p."wallTime", p.step` : `p.step`;
  const inRange = `FROM "MetricPoint" p WHERE p."seriesId" = b.sid AND ${rangeScan} AND ${xExpr} >= b.lo AND ${xExpr} <= b.hi`;
  const bucketExpr = `(CASE WHEN b.hi > b.lo THEN LEAST(floor((${xExpr} - b.lo) / (b.hi - b.lo) * $5), $5 - 1) ELSE 0 END)::int`;
  const rows = await sql.query<{ sid: number; runId: string; key: string; lo: number | null; hi: number | null; whole: boolean; data: Uint8Array | null }>(
    `WITH s0 AS MATERIALIZED (
       SELECT s.id AS sid, s."runId" AS "runId", s.key AS key, s.count AS n,
              COALESCE($3::float8, ${bound("min")}) AS lo, COALESCE($4::float8, ${bound("max")}) AS hi
         FROM "MetricSeries" s
        WHERE s."runId" = ANY($1::text[]) AND s.key = ANY($2::text[])
     ), b AS (
       SELECT sid, "runId", key, ${sharedRange ? "min(lo) OVER ()" : "lo"} AS lo, ${sharedRange ? "max(hi) OVER ()" : "hi"} AS hi,
              -- in response order, the series whose stored points still fit the budget are read whole
              sum(n) OVER (ORDER BY "runId", key ROWS UNBOUNDED PRECEDING) <= $6::float8 AS whole
         FROM s0
     )
     SELECT b.sid, b."runId", b.key, b.lo, b.hi, b.whole, COALESCE(w.data, a.data) AS data
       FROM b
       -- each LATERAL is gated by its own one-time filter on b.whole: only one of them scans
       LEFT JOIN LATERAL (
         SELECT string_agg(float8send(q.x) || float8send(q.value), ''::bytea) AS data
           FROM (SELECT ${xExpr} AS x, p.value ${inRange} AND b.whole ORDER BY ${order}) q
       ) w ON true
       LEFT JOIN LATERAL (
         SELECT string_agg(float8send(g.x) || float8send(g."xEnd") || float8send(g.min) || float8send(g.max) || float8send(g.sum) || int4send(g.count), ''::bytea ORDER BY g.bucket) AS data
           FROM (SELECT q.bucket, min(q.x) AS x, max(q.x) AS "xEnd", min(q.value) AS min, max(q.value) AS max, sum(q.value) AS sum, count(*)::int AS count
                   FROM (SELECT ${bucketExpr} AS bucket, ${xExpr} AS x, p.value ${inRange} AND NOT b.whole ORDER BY 1, ${order}) q
                  GROUP BY q.bucket) g
       ) a ON true
      ORDER BY b."runId", b.key`,
    [input.runIds, input.keys, input.from ?? null, input.to ?? null, input.points, Number.isFinite(budget) ? budget : Number.MAX_VALUE],
  );
  return rows.map((r) => {
    const buckets = r.data === null ? [] : r.whole ? bucketPoints(r.data, r.lo!, r.hi!, input.points) : unpackBuckets(r.data);
    return { runId: r.runId, key: r.key, total: buckets.reduce((n, b) => n + b.count, 0), buckets };
  });
}

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** PostgreSQL's float8 order: NaN above everything (so min skips NaN and max returns it). */
function pgLess(a: number, b: number): boolean {
  return a < b || (b !== b && a === a);
}

/**
 * Buckets points packed as big-endian (x, value) doubles in x order, with PostgreSQL's arithmetic:
 * the bucket of x is floor((x - lo) / (hi - lo) * points) in float8, clamped to the last; min and
 * max as float8smaller/float8larger (ties keep the later value, NaN ranks highest); the mean is
 * the in-order float8 sum over the count.
 */
export function bucketPoints(packed: Uint8Array, lo: number, hi: number, points: number): Bucket[] {
  const dv = view(packed);
  const out: Bucket[] = [];
  let current = -1;
  let b: Bucket | undefined;
  let sum = 0;
  for (let off = 0; off < dv.byteLength; off += 16) {
    const x = dv.getFloat64(off, false);
    const v = dv.getFloat64(off + 8, false);
    const i = hi > lo ? Math.min(Math.floor(((x - lo) / (hi - lo)) * points), points - 1) : 0;
    if (i !== current) {
      if (b) b.mean = sum / b.count;
      current = i;
      b = { x, xEnd: x, min: v, max: v, mean: 0, count: 1 };
      sum = v;
      out.push(b);
      continue;
    }
    b!.xEnd = x;
    if (!pgLess(b!.min, v)) b!.min = v;
    if (!pgLess(v, b!.max)) b!.max = v;
    sum += v;
    b!.count++;
  }
  if (b) b.mean = sum / b.count;
  return out;
}

/** Buckets aggregated by PostgreSQL, packed as (x, xEnd, min, max, sum) doubles and an int count. */
function unpackBuckets(packed: Uint8Array): Bucket[] {
  const dv = view(packed);
  const out: Bucket[] = [];
  for (let off = 0; off < dv.byteLength; off += 44) {
    const count = dv.getInt32(off + 40, false);
    out.push({ x: dv.getFloat64(off, false), xEnd: dv.getFloat64(off + 8, false), min: dv.getFloat64(off + 16, false), max: dv.getFloat64(off + 24, false), mean: dv.getFloat64(off + 32, false) / count, count });
  }
  return out;
}
