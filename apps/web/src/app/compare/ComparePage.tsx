"use client";
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api } from "../../lib/api.ts";
import { color, toLine } from "../../lib/metrics.ts";
import { usePrefetched } from "../../lib/prefetch.ts";
import { useUrlState } from "../../lib/url-state.ts";
import { compareMetricKeys, compareSeriesInput, compareTableInput, parseCompareParams, toChartSeries } from "../../lib/queries.ts";
import type { ComparePrefetch } from "../../server/prefetch.ts";
import { Chart } from "../../components/Chart.tsx";
import { ErrorBox, fmt, HoverLink, StatusBadge } from "../../components/bits.tsx";
import { EvalCompareSummary } from "../../components/EvalCompareSummary.tsx";

/** The compare page; `prefetched`: its first queries' answers, asked for by the server (page.tsx). */
export function ComparePage({ prefetched }: { prefetched?: ComparePrefetch }) {
  const { params, update } = useUrlState();
  const take = usePrefetched(prefetched);
  const { runIds, chosenKeys, smoothing, points } = useMemo(() => parseCompareParams((k) => params.get(k)), [params]);

  const recent = useQuery({ queryKey: ["runs.list", "compare-picker"], queryFn: () => api().runs.list.query({ limit: 100 }) });
  const keys = useQuery({ queryKey: ["metrics.keys", runIds], enabled: runIds.length > 0, queryFn: () => take("keys", { runIds }, () => api().metrics.keys.query({ runIds })) });
  const allKeys = (keys.data?.keys ?? []).map((k) => k.key);
  const metricKeys = compareMetricKeys(chosenKeys, allKeys);
  const cmp = useQuery({
    queryKey: ["compare", runIds, metricKeys, points],
    enabled: runIds.length >= 2,
    refetchInterval: 10_000,
    placeholderData: (p) => p,
    queryFn: () => {
      const input = compareTableInput(runIds, metricKeys);
      return take("table", input, () => api().compare.runs.query(input));
    },
  });
  const series = useQuery({
    queryKey: ["compare.series", runIds, metricKeys, points],
    enabled: runIds.length >= 2 && metricKeys.length > 0,
    refetchInterval: 10_000,
    placeholderData: (p) => p,
    queryFn: () => {
      const input = compareSeriesInput(runIds, metricKeys, points);
      return take("series", input, async () => ({ series: toChartSeries((await api().metrics.series.query(input, { context: { unbatched: true } })).series) }));
    },
  });
  const [picker, setPicker] = useState("");
  const names = new Map((cmp.data?.runs ?? []).map((r) => [r.id, r.name]));
  const label = (id: string) => names.get(id) ?? recent.data?.items.find((r) => r.id === id)?.name ?? id.slice(0, 8);

  return (
    <>
      <h1>Compare runs <span className="muted" style={{ fontSize: 13, fontWeight: 400 }}>{runIds.length} selected (2–10); the address of this page is the shareable link</span></h1>
      <div className="panel row" style={{ marginBottom: 12 }}>
        {runIds.map((id, i) => (
          <span key={id} className="tag" style={{ borderLeft: `3px solid ${color(i)}`, fontSize: 12.5 }}>
            {names.get(id) ?? id.slice(0, 8)} <a href="#" onClick={(e) => { e.preventDefault(); update({ runs: runIds.filter((x) => x !== id).join(",") }); }} aria-label={`remove ${id}`}>×</a>
          </span>
        ))}
        <select value={picker} aria-label="add run" onChange={(e) => { setPicker(""); if (e.target.value && runIds.length < 10) update({ runs: [...runIds, e.target.value].join(",") }); }}>
          <option value="">add a run…</option>
          {recent.data?.items.filter((r) => !runIds.includes(r.id)).map((r) => <option key={r.id} value={r.id}>{r.name} ({r.status})</option>)}
        </select>
        <span className="grow" />
        <label className="row muted" style={{ gap: 6 }}>smoothing <input type="range" min={0} max={0.99} step={0.01} value={smoothing} aria-label="smoothing" onChange={(e) => update({ smooth: e.target.value === "0" ? null : e.target.value })} /></label>
      </div>
      {runIds.length < 2 && <p className="muted panel">Pick at least two runs (here, or with the checkboxes on the runs list).</p>}
      <ErrorBox error={cmp.error ?? keys.error} />
      {runIds.length >= 2 && (
        <>
          <h2>Metrics</h2>
          <div className="row" style={{ marginBottom: 8 }}>
            {allKeys.map((k) => (
              <label key={k} className="tag row" style={{ gap: 4, cursor: "pointer" }}>
                <input type="checkbox" checked={metricKeys.includes(k)} onChange={() => update({ keys: (metricKeys.includes(k) ? metricKeys.filter((x) => x !== k) : [...metricKeys, k].slice(0, 20)).join(",") })} />
                {k}
              </label>
            ))}
          </div>
          <div className="charts">
            {metricKeys.map((k) => (
              <Chart key={k} title={k} lines={series.data ? runIds.map((id, i) => toLine(series.data.series.find((s) => s.runId === id && s.key === k), label(id), color(i), smoothing)) : []} />
            ))}
          </div>
        </>
      )}
      {cmp.data && (
        <>
          <h2>Summary</h2>
          <div className="panel" style={{ padding: 0 }}>
            <table data-testid="summary">
              <thead><tr><th>Metric</th><th>Run</th><th>Final</th><th>at step</th><th>Min</th><th>Max</th><th>Mean</th><th>Points</th></tr></thead>
              <tbody>
                {cmp.data.summary.map((s) => (
                  <tr key={`${s.key}|${s.runId}`}>
                    <td className="mono">{s.key}</td><td style={{ color: color(runIds.indexOf(s.runId)) }}>{names.get(s.runId)}</td>
                    <td className="mono">{fmt(s.final)}</td><td>{s.finalStep ?? "–"}</td><td className="mono">{fmt(s.min)}</td><td className="mono">{fmt(s.max)}</td><td className="mono">{fmt(s.mean)}</td><td>{s.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <EvalCompareSummary runIds={runIds} label={label} color={color} />
          <h2>Runs</h2>
          <div className="panel" style={{ padding: 0 }}>
            <table>
              <thead><tr><th>Run</th><th>Status</th><th>Step</th></tr></thead>
              <tbody>{cmp.data.runs.map((r, i) => <tr key={r.id}><td><HoverLink href={`/runs/${r.id}`} style={{ color: color(i) }}>{r.name}</HoverLink></td><td><StatusBadge status={r.status} /></td><td>{r.currentStep}/{r.totalSteps}</td></tr>)}</tbody>
            </table>
          </div>
          <h2>Config diff ({cmp.data.configDiff.length} differing keys)</h2>
          <div className="panel" style={{ padding: 0 }}>
            <table data-testid="config-diff">
              <thead><tr><th>Key</th>{cmp.data.runs.map((r, i) => <th key={r.id} style={{ color: color(i) }}>{r.name}</th>)}</tr></thead>
              <tbody>
                {cmp.data.configDiff.map((d) => (
                  <tr key={d.path} data-key={d.path}>
                    <td className="mono">{d.path}</td>
                    {cmp.data.runs.map((r) => <td key={r.id} className="mono">{d.values[r.id] === null ? <span className="muted">—</span> : JSON.stringify(d.values[r.id])}</td>)}
                  </tr>
                ))}
                {cmp.data.configDiff.length === 0 && <tr><td colSpan={cmp.data.runs.length + 1} className="muted">The configs are identical.</td></tr>}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}
