import { cookies } from "next/headers";
import type { RouterOutputs } from "@azr/client";
import type { Prefetched } from "../lib/prefetch.ts";
import { compareMetricKeys, compareSeriesInput, compareTableInput, runSeriesInputs, toChartSeries, type ChartSeries, type CompareParams } from "../lib/queries.ts";
import { SESSION_COOKIE } from "../lib/session.ts";
import { apiForSession } from "./api.ts";

// The server side of src/lib/prefetch.ts: a page's server component calls these without waiting,
// so the HTML streams at once and each answer follows in the same response when it arrives.

type Out = RouterOutputs;

/** The answer with its input, or null on any failure (the page then asks the API itself and
 * shows that error, e.g. sends an ended session to sign-in). */
function settle<I, T>(input: I, call: (input: I) => Promise<T>): Prefetched<T> {
  return call(input).then(
    (data) => ({ input, data }),
    () => null,
  );
}

async function sessionApi() {
  const session = (await cookies()).get(SESSION_COOKIE)?.value;
  return session ? apiForSession(session) : null;
}

export type RunPagePrefetch = {
  run: Prefetched<Out["runs"]["get"]>;
  keys: Prefetched<Out["metrics"]["keys"]>;
  latest: Prefetched<Out["metrics"]["latest"]>;
  series: Prefetched<{ series: ChartSeries[] }>;
};

/** The run page's first queries; the series (which needs the key list) is asked for as soon as
 * the keys are in, next to the API instead of after a browser round trip. */
export async function prefetchRunPage(runId: string, points: number): Promise<RunPagePrefetch | undefined> {
  const api = await sessionApi();
  if (!api) return undefined;
  const keys = settle({ runIds: [runId] }, (i) => api.metrics.keys.query(i));
  return {
    run: settle({ id: runId }, (i) => api.runs.get.query(i)),
    keys,
    latest: settle({ runIds: [runId] }, (i) => api.metrics.latest.query(i)),
    series: keys.then((k) => {
      const list = k?.data.keys.map((x) => x.key) ?? [];
      const inputs = runSeriesInputs(runId, list, "step", points);
      return list.length > 0 ? settle(inputs, (ins) => Promise.all(ins.map((i) => api.metrics.series.query(i))).then((rs) => ({ series: toChartSeries(rs.flatMap((r) => r.series)) }))) : null;
    }),
  };
}

export type ComparePrefetch = {
  keys: Prefetched<Out["metrics"]["keys"]>;
  series: Prefetched<{ series: ChartSeries[] }>;
  table: Prefetched<Out["compare"]["runs"]>;
};

/** The compare page's keys, curves and then its table: the summary reads every point of every
 * run, so it is asked for after the curves rather than competing with them. */
export async function prefetchCompare(params: CompareParams): Promise<ComparePrefetch | undefined> {
  if (params.runIds.length < 2) return undefined;
  const api = await sessionApi();
  if (!api) return undefined;
  const keys = settle({ runIds: params.runIds }, (i) => api.metrics.keys.query(i));
  const metricKeys = params.chosenKeys.length > 0 ? Promise.resolve(params.chosenKeys) : keys.then((k) => compareMetricKeys([], k?.data.keys.map((x) => x.key) ?? []));
  const series = metricKeys.then((mk) => (mk.length > 0 ? settle(compareSeriesInput(params.runIds, mk, params.points), (i) => api.metrics.series.query(i).then((r) => ({ series: toChartSeries(r.series) }))) : null));
  return {
    keys,
    series,
    table: series.then(() => metricKeys).then((mk) => settle(compareTableInput(params.runIds, mk), (i) => api.compare.runs.query(i))),
  };
}
