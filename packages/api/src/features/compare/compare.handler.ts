import { TRPCError } from "@trpc/server";
import type { Database } from "@azr/db";
import type { z } from "zod";
import type { JsonValue } from "../../dto.ts";
import { downsample, type Series } from "../metrics/metrics.handler.ts";
import type { compareInput } from "./compare.schema.ts";

export interface ConfigDifference {
  /** dotted path into the config, e.g. `azr.batchSize` */
  path: string;
  /** per run id; null where the run's config lacks the path */
  values: Record<string, JsonValue>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Leaves of nested objects by dotted path; arrays are compared as whole values. */
export function flatten(value: unknown, prefix = "", out = new Map<string, JsonValue>()): Map<string, JsonValue> {
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, value as JsonValue);
  }
  return out;
}

/** Only the paths whose values differ between the runs (or exist in some runs only). */
export function configDiff(configs: { runId: string; config: unknown }[]): ConfigDifference[] {
  const flat = configs.map((c) => ({ runId: c.runId, leaves: flatten(c.config) }));
  const paths = new Set(flat.flatMap((f) => [...f.leaves.keys()]));
  const diffs: ConfigDifference[] = [];
  for (const path of [...paths].sort()) {
    const encoded = flat.map((f) => (f.leaves.has(path) ? JSON.stringify(f.leaves.get(path)) : undefined));
    if (encoded.every((e) => e === encoded[0])) continue;
    diffs.push({ path, values: Object.fromEntries(flat.map((f) => [f.runId, f.leaves.has(path) ? f.leaves.get(path)! : null])) });
  }
  return diffs;
}

export interface SummaryRow {
  runId: string;
  key: string;
  final: number | null;
  finalStep: number | null;
  min: number | null;
  max: number | null;
  mean: number | null;
  count: number;
}

export async function summarize(db: Database, runIds: string[], keys: string[]): Promise<SummaryRow[]> {
  if (keys.length === 0) return [];
  const rows = await db.sql.query<SummaryRow & Record<string, unknown>>(
    `SELECT s."runId", s.key, s."lastValue" AS final, s."lastStep" AS "finalStep", a.min, a.max, a.mean, a.count
       FROM "MetricSeries" s
       CROSS JOIN LATERAL (
         SELECT min(p.value) AS min, max(p.value) AS max, avg(p.value) AS mean, count(*)::int AS count
           FROM "MetricPoint" p WHERE p."seriesId" = s.id
       ) a
      WHERE s."runId" = ANY($1::text[]) AND s.key = ANY($2::text[])
      ORDER BY s.key, s."runId"`,
    [runIds, keys],
  );
  // Every (run, key) pair gets a row, so tables line up even where a run never logged the key.
  const found = new Map(rows.map((r) => [`${r.runId}\u0000${r.key}`, r]));
  return keys.flatMap((key) => runIds.map((runId) => found.get(`${runId}\u0000${key}`) ?? { runId, key, final: null, finalStep: null, min: null, max: null, mean: null, count: 0 }));
}

export interface Comparison {
  runs: { id: string; name: string; status: string; currentStep: number; totalSteps: number }[];
  configDiff: ConfigDifference[];
  summary: SummaryRow[];
  /** Downsampled on one shared step range, so bucket i covers the same steps in every run. */
  series: Series[];
}

export async function compareRuns(db: Database, input: z.output<typeof compareInput>): Promise<Comparison> {
  // The three reads are independent: run them concurrently on the pool.
  const [runs, summary, range] = await Promise.all([
    db.prisma.run.findMany({ where: { id: { in: input.runIds } } }),
    summarize(db, input.runIds, input.keys),
    input.series && input.keys.length > 0 ? sharedRange(db, input.runIds, input.keys) : Promise.resolve(undefined),
  ]);
  const missing = input.runIds.filter((id) => !runs.some((r) => r.id === id));
  if (missing.length > 0) throw new TRPCError({ code: "NOT_FOUND", message: `no run with id ${missing.join(", ")}` });
  const ordered = input.runIds.map((id) => runs.find((r) => r.id === id)!);
  let series: Series[] = [];
  if (range && range.lo !== null && range.hi !== null) {
    series = await downsample(db.sql, { runIds: input.runIds, keys: input.keys, axis: "step", points: input.points, from: range.lo, to: range.hi });
  }
  return {
    runs: ordered.map((r) => ({ id: r.id, name: r.name, status: r.status, currentStep: r.currentStep, totalSteps: r.totalSteps })),
    configDiff: configDiff(ordered.map((r) => ({ runId: r.id, config: r.config }))),
    summary,
    series,
  };
}

async function sharedRange(db: Database, runIds: string[], keys: string[]): Promise<{ lo: number | null; hi: number | null } | undefined> {
  const [range] = await db.sql.query<{ lo: number | null; hi: number | null }>(
      `SELECT min(b.lo)::float8 AS lo, max(b.hi)::float8 AS hi FROM "MetricSeries" s,
         LATERAL (SELECT (SELECT min(step) FROM "MetricPoint" WHERE "seriesId" = s.id) AS lo,
                         (SELECT max(step) FROM "MetricPoint" WHERE "seriesId" = s.id) AS hi) b
        WHERE s."runId" = ANY($1::text[]) AND s.key = ANY($2::text[])`,
    [runIds, keys],
  );
  return range;
}
