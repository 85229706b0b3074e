import { TRPCError } from "@trpc/server";
import type { Database } from "@azr/db";
import type { z } from "zod";
import type { JsonValue } from "../../dto.ts";
import { downsample, type Series } from "../metrics/downsample.ts";
import { latest, type LatestValue } from "../metrics/metrics.handler.ts";
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
  const withSeries = input.series && input.keys.length > 0;
  // Independent reads, concurrently. With series, the summary comes from the buckets (every point
  // of every series falls in one on the shared range), so the points are read once, not twice.
  // The runs are read with plain SQL: Prisma compiled its id-list query anew on every call.
  const [runs, series, summaryRows] = await Promise.all([
    db.sql.query<Comparison["runs"][number] & { config: unknown }>(
      `SELECT id, name, status::text AS status, "currentStep", "totalSteps", config FROM "Run" WHERE id = ANY($1::text[])`,
      [input.runIds],
    ),
    withSeries ? downsample(db.sql, { runIds: input.runIds, keys: input.keys, axis: "step", points: input.points }, { sharedRange: true }) : Promise.resolve([]),
    withSeries ? latest(db.sql, { runIds: input.runIds, keys: input.keys }) : summarize(db, input.runIds, input.keys),
  ]);
  const missing = input.runIds.filter((id) => !runs.some((r) => r.id === id));
  if (missing.length > 0) throw new TRPCError({ code: "NOT_FOUND", message: `no run with id ${missing.join(", ")}` });
  const ordered = input.runIds.map((id) => runs.find((r) => r.id === id)!);
  const summary = withSeries ? summaryFromBuckets(input.runIds, input.keys, series, summaryRows as LatestValue[]) : (summaryRows as SummaryRow[]);
  return {
    runs: ordered.map((r) => ({ id: r.id, name: r.name, status: r.status, currentStep: r.currentStep, totalSteps: r.totalSteps })),
    configDiff: configDiff(ordered.map((r) => ({ runId: r.id, config: r.config }))),
    summary,
    series,
  };
}

function summaryFromBuckets(runIds: string[], keys: string[], series: Series[], latestValues: LatestValue[]): SummaryRow[] {
  return keys.flatMap((key) =>
    runIds.map((runId) => {
      const s = series.find((x) => x.runId === runId && x.key === key);
      const l = latestValues.find((x) => x.runId === runId && x.key === key);
      const buckets = s?.buckets ?? [];
      const count = buckets.reduce((n, b) => n + b.count, 0);
      return {
        runId,
        key,
        final: l?.value ?? null,
        finalStep: l?.step ?? null,
        min: count ? Math.min(...buckets.map((b) => b.min)) : null,
        max: count ? Math.max(...buckets.map((b) => b.max)) : null,
        mean: count ? buckets.reduce((a, b) => a + b.mean * b.count, 0) / count : null,
        count,
      };
    }),
  );
}
