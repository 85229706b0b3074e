import type { RouterInputs } from "./api.ts";

// The inputs of the pages' first queries, built in one place: the server's prefetch
// (src/server/prefetch.ts) and the pages must ask for exactly the same thing.

type SeriesInput = RouterInputs["metrics"]["series"];

/** What a chart draws of a downsampled series: each bucket's first x and its mean, as two columns.
 * The API's buckets also carry the last x, min, max and count; in this form a series is about a
 * quarter of the bytes, which matters where the server's prefetch puts it in the page's HTML. */
export interface ChartSeries {
  runId: string;
  key: string;
  xs: number[];
  means: number[];
}

export function toChartSeries(series: readonly { runId: string; key: string; buckets: readonly { x: number; mean: number }[] }[]): ChartSeries[] {
  return series.map((s) => ({ runId: s.runId, key: s.key, xs: s.buckets.map((b) => b.x), means: s.buckets.map((b) => b.mean) }));
}

/** Buckets per series on the run page: about the plot's width in pixels (a chart is ~460 px
 * wide at 1440 px, three per row). ?points= overrides it (bench/web's full-resolution baseline). */
export function runPagePoints(raw: string | null | undefined): number {
  return Math.min(5000, Math.max(2, Number(raw) || 400));
}

/** The run page's charts: every key of the run (a real run logs 70 or so), in requests of at
 * most 50 keys (the API's limit) that go out in parallel. */
export function runSeriesInputs(runId: string, keys: string[], axis: "step" | "time", points: number): SeriesInput[] {
  const inputs: SeriesInput[] = [];
  for (let i = 0; i < keys.length; i += 50) inputs.push({ runIds: [runId], keys: keys.slice(i, i + 50), axis, points });
  return inputs;
}

export interface CompareParams {
  runIds: string[];
  /** Metrics picked in the URL; none: the defaults that the runs have. */
  chosenKeys: string[];
  smoothing: number;
  points: number;
}

/** The compare page's state, all of it in the URL (the shareable link). */
export function parseCompareParams(get: (name: string) => string | null | undefined): CompareParams {
  return {
    runIds: (get("runs") ?? "").split(",").filter(Boolean).slice(0, 10),
    chosenKeys: (get("keys") ?? "").split(",").filter(Boolean),
    smoothing: Number(get("smooth") ?? 0) || 0,
    points: Math.min(2000, Math.max(2, Number(get("points")) || 300)),
  };
}

const DEFAULT_COMPARE_KEYS = ["reward/solve/mean", "train/loss"];

/** The compared metrics: those in the URL, else the defaults the runs have, else their first four. */
export function compareMetricKeys(chosen: string[], allKeys: string[]): string[] {
  if (chosen.length > 0) return chosen;
  const defaults = DEFAULT_COMPARE_KEYS.filter((k) => allKeys.includes(k));
  return defaults.length > 0 ? defaults : allKeys.slice(0, 4);
}

export function compareSeriesInput(runIds: string[], metricKeys: string[], points: number): SeriesInput {
  return { runIds, keys: metricKeys.slice(0, 20), points };
}

/** The summary table and the config diff; the curves come from their own series call. */
export function compareTableInput(runIds: string[], metricKeys: string[]): RouterInputs["compare"]["runs"] {
  return { runIds, keys: metricKeys.slice(0, 20), series: false };
}
