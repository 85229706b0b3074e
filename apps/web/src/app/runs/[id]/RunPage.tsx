"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import dynamic from "next/dynamic";
import { useParams, useRouter, useSearchParams } from "next/navigation";
import { useMemo, useState } from "react";
import { api, errorMessage } from "../../../lib/api.ts";
import { usePrefetched } from "../../../lib/prefetch.ts";
import { runPagePoints, runSeriesInputs, toChartSeries } from "../../../lib/queries.ts";
import type { RunPagePrefetch } from "../../../server/prefetch.ts";
import { useNewPoints, useRunEvents, type RunEvent } from "../../../lib/live.ts";
import { color, groupKeys, toLine } from "../../../lib/metrics.ts";
import { Chart } from "../../../components/Chart.tsx";
import { ago, ErrorBox, fmt, HoverLink, Progress, StatusBadge, TERMINAL } from "../../../components/bits.tsx";

// The config tab's YAML library (~100 kB) loads when the tab opens, not before the first chart.
const ConfigTab = dynamic(() => import("./ConfigTab.tsx"), { loading: () => <p className="muted">Loading…</p> });
// Likewise the Evaluation tab: its code and queries wait until it is opened.
const EvaluationTab = dynamic(() => import("../../../components/EvaluationTab.tsx").then((m) => m.EvaluationTab), { loading: () => <p className="muted">Loading…</p> });

const TABS = ["charts", "evaluation", "events", "checkpoints", "workers", "config"] as const;
type Tab = (typeof TABS)[number];

/** The run page; `prefetched`: its first queries' answers, asked for by the server (page.tsx). */
export function RunPage({ prefetched }: { prefetched?: RunPagePrefetch }) {
  const { id } = useParams<{ id: string }>();
  const take = usePrefetched(prefetched);
  const qc = useQueryClient();
  const router = useRouter();
  const params = useSearchParams();
  // ?tab= opens a tab directly (the runs list's evaluation scores and the diff page link here).
  const [tab, setTab] = useState<Tab>(() => TABS.find((t) => t === params.get("tab")) ?? "charts");
  const points = runPagePoints(params.get("points"));
  const [smoothing, setSmoothing] = useState(0);
  const [axis, setAxis] = useState<"step" | "time">("step");

  const run = useQuery({ queryKey: ["runs.get", id], queryFn: () => take("run", { id }, () => api().runs.get.query({ id })), refetchInterval: (q) => (q.state.data && TERMINAL.has(q.state.data.status) ? false : 5_000) });
  const keys = useQuery({ queryKey: ["metrics.keys", id], queryFn: () => take("keys", { runIds: [id] }, () => api().metrics.keys.query({ runIds: [id] })) });
  const keyList = useMemo(() => (keys.data?.keys ?? []).map((k) => k.key), [keys.data]);
  const groups = useMemo(() => groupKeys(keyList), [keyList]);
  const series = useQuery({
    queryKey: ["metrics.series", id, keyList, axis, points],
    enabled: keyList.length > 0,
    placeholderData: (p) => p,
    queryFn: () => {
      const inputs = runSeriesInputs(id, keyList, axis, points);
      return take("series", inputs, async () => ({ series: toChartSeries((await Promise.all(inputs.map((i) => api().metrics.series.query(i, { context: { unbatched: true } })))).flatMap((r) => r.series)) }));
    },
  });
  // The newest step already stored: the live feed starts after it, so the history is never
  // streamed again over the WebSocket (whatever the chart's x axis).
  const latest = useQuery({ queryKey: ["metrics.latest", id], staleTime: Infinity, queryFn: () => take("latest", { runIds: [id] }, () => api().metrics.latest.query({ runIds: [id] })) });
  const lastStep = latest.data ? latest.data.values.reduce((m, v) => Math.max(m, v.step ?? -1), -1) : null;
  // Live: new points refresh the (downsampled) series and, if new keys appeared, the key list.
  useNewPoints(id, lastStep, () => {
    void qc.invalidateQueries({ queryKey: ["metrics.keys", id] });
    void qc.invalidateQueries({ queryKey: ["metrics.series", id] });
    void qc.invalidateQueries({ queryKey: ["runs.get", id] });
  });
  const { events, live } = useRunEvents(id, () => void qc.invalidateQueries({ queryKey: ["runs.get", id] }));

  const cancel = useMutation({ mutationFn: () => api().runs.cancel.mutate({ id, reason: "cancelled from the dashboard" }), onSuccess: () => qc.invalidateQueries({ queryKey: ["runs.get", id] }) });
  const resume = useMutation({ mutationFn: () => api().runs.resume.mutate({ id }), onSuccess: () => qc.invalidateQueries({ queryKey: ["runs.get", id] }) });

  if (run.error) return <ErrorBox error={run.error} />;
  const r = run.data;
  if (!r) return <p className="muted">Loading…</p>;
  const lines = (g: (typeof groups)[number]) => g.keys.map((k, i) => toLine(series.data?.series.find((s) => s.key === k), g.label(k), color(i), smoothing, axis === "time"));

  return (
    <>
      <h1>
        <span data-testid="run-name">{r.name}</span> <StatusBadge status={r.status} />
        <span className="muted mono" style={{ fontSize: 12 }}>{r.id}</span>
        <span className="grow" />
        <span className={`muted ${live ? "on" : ""}`} title="live updates over WebSocket" data-testid="live">{live ? "● live" : "○ offline"}</span>
        <HoverLink className="button" href={`/runs/${id}/samples`}>Samples</HoverLink>
        <HoverLink className="button" href={`/launch?from=${id}`}>Clone</HoverLink>
        {!TERMINAL.has(r.status) && (
          <button className="danger" disabled={cancel.isPending || r.status === "cancelled"} onClick={() => confirm(`Cancel run ${r.name}?`) && cancel.mutate()}>Cancel run</button>
        )}
        {(r.status === "paused" || r.status === "failed") && <button onClick={() => resume.mutate()} disabled={resume.isPending}>Resume</button>}
      </h1>
      {cancel.error && <p className="error" role="alert">{errorMessage(cancel.error)}</p>}
      {resume.error && <p className="error" role="alert">{errorMessage(resume.error)}</p>}
      {r.failureReason && <p className="error">Failure: {r.failureReason}</p>}
      <div className="summary-cards">
        <div className="card"><div className="k">progress</div><Progress current={r.currentStep} total={r.totalSteps} /></div>
        <div className="card"><div className="k">model</div><div className="v mono" style={{ fontSize: 14 }}>{r.modelName}</div></div>
        <div className="card"><div className="k">pool</div><div className="v" style={{ fontSize: 14 }}>{r.poolName}</div></div>
        <div className="card"><div className="k">owner</div><div className="v" style={{ fontSize: 14 }}>{r.ownerName}</div></div>
        <div className="card"><div className="k">attempt</div><div className="v" style={{ fontSize: 14 }}>{r.attempt}</div></div>
        <div className="card"><div className="k">created</div><div className="v" style={{ fontSize: 14 }} title={r.createdAt}>{ago(r.createdAt)}</div></div>
        {r.parentRunId && <div className="card"><div className="k">forked from</div><HoverLink href={`/runs/${r.parentRunId}`}>parent run</HoverLink></div>}
      </div>
      <StatusTimeline events={events} />
      <div className="tabs" role="tablist">
        {TABS.map((t) => (
          <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? "active" : ""} onClick={() => setTab(t)}>
            {t === "config" ? "config & reproducibility" : t}{t === "events" ? ` (${events.length})` : ""}
          </button>
        ))}
      </div>
      {tab === "charts" && (
        <>
          <div className="row" style={{ marginBottom: 10 }}>
            <label className="row muted" style={{ gap: 6 }}>smoothing <input type="range" min={0} max={0.99} step={0.01} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} aria-label="smoothing" /> <span className="mono">{smoothing.toFixed(2)}</span></label>
            <label className="row muted" style={{ gap: 6 }}>x axis
              <select value={axis} onChange={(e) => setAxis(e.target.value as "step" | "time")} aria-label="x axis"><option value="step">step</option><option value="time">time</option></select>
            </label>
            <span className="muted">{keyList.length} metrics · downsampled to ≤{points} points per series on the server</span>
          </div>
          <ErrorBox error={keys.error ?? series.error} />
          {keys.isSuccess && keyList.length === 0 && <p className="muted panel">No metrics yet: the first step&apos;s figures appear here as soon as it finishes.</p>}
          <div className="charts">
            {groups.map((g) => <Chart key={g.title} title={g.title} lines={lines(g)} timeAxis={axis === "time"} />)}
          </div>
        </>
      )}
      {tab === "evaluation" && <EvaluationTab runId={id} runActive={!TERMINAL.has(r.status)} />}
      {tab === "events" && <EventLog events={events} />}
      {tab === "checkpoints" && <Checkpoints runId={id} mayFork={true} onForked={(newId) => router.push(`/runs/${newId}`)} />}
      {tab === "workers" && <Workers runId={id} />}
      {tab === "config" && <ConfigTab run={r} />}
    </>
  );
}

function StatusTimeline({ events }: { events: RunEvent[] }) {
  const transitions = events.filter((e) => e.kind === "transition" && e.toStatus);
  if (transitions.length === 0) return null;
  return (
    <div className="row" style={{ margin: "12px 0 0", gap: 6 }} data-testid="timeline">
      {transitions.map((e) => (
        <span key={e.id} className="row" style={{ gap: 4 }} title={`${e.createdAt} — ${e.message}`}>
          <StatusBadge status={e.toStatus!} /><span className="muted" style={{ fontSize: 11 }}>{new Date(e.createdAt).toLocaleTimeString()}</span><span className="muted">→</span>
        </span>
      ))}
    </div>
  );
}

function EventLog({ events }: { events: RunEvent[] }) {
  const [kind, setKind] = useState<"" | RunEvent["kind"]>("");
  const shown = kind ? events.filter((e) => e.kind === kind) : events;
  return (
    <>
      <div className="row" style={{ marginBottom: 8 }}>
        <select value={kind} onChange={(e) => setKind(e.target.value as "" | RunEvent["kind"])} aria-label="event kind">
          <option value="">all events</option><option value="transition">transitions</option><option value="log">logs</option><option value="system">system</option>
        </select>
      </div>
      <div className="log" data-testid="event-log">
        {shown.map((e) => (
          <div key={e.id} className={`line level-${e.level}`}>
            <span className="muted">{new Date(e.createdAt).toLocaleTimeString()} </span>
            <span className="muted">[{e.kind}{e.kind === "transition" ? ` ${e.fromStatus ?? ""}→${e.toStatus ?? ""}` : ""}] {e.actor}: </span>
            {e.message}
          </div>
        ))}
        {shown.length === 0 && <span className="muted">no events</span>}
      </div>
    </>
  );
}

function Checkpoints({ runId, onForked }: { runId: string; mayFork: boolean; onForked: (id: string) => void }) {
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ["checkpoints", runId], queryFn: () => api().checkpoints.list.query({ runId }), refetchInterval: 10_000 });
  const pin = useMutation({ mutationFn: (v: { id: string; pinned: boolean }) => api().checkpoints.pin.mutate(v), onSuccess: () => qc.invalidateQueries({ queryKey: ["checkpoints", runId] }) });
  const fork = useMutation({ mutationFn: (checkpointId: string) => api().runs.fork.mutate({ id: runId, checkpointId }), onSuccess: (r) => onForked(r.id) });
  return (
    <div className="panel" style={{ padding: 0 }}>
      <ErrorBox error={list.error ?? pin.error ?? fork.error} />
      <table data-testid="checkpoints">
        <thead><tr><th>Step</th><th>Size</th><th>Location</th><th>Created</th><th>Pinned</th><th /></tr></thead>
        <tbody>
          {list.data?.items.map((c) => (
            <tr key={c.id}>
              <td>{c.step}</td>
              <td>{fmt(Number(c.sizeBytes) / 1e6, 1)} MB</td>
              <td className="mono">{c.location}</td>
              <td>{ago(c.createdAt)}</td>
              <td>{c.pinned ? "📌 pinned" : ""}</td>
              <td className="row">
                <button onClick={() => pin.mutate({ id: c.id, pinned: !c.pinned })}>{c.pinned ? "Unpin" : "Pin"}</button>
                <button onClick={() => fork.mutate(c.id)} disabled={fork.isPending}>Fork from here</button>
              </td>
            </tr>
          ))}
          {list.data?.items.length === 0 && <tr><td colSpan={6} className="muted">No checkpoints yet.</td></tr>}
        </tbody>
      </table>
    </div>
  );
}

function Workers({ runId }: { runId: string }) {
  const list = useQuery({ queryKey: ["workers", runId], queryFn: () => api().workers.list.query({ runId }), refetchInterval: 5_000 });
  return (
    <div className="panel" style={{ padding: 0 }}>
      <ErrorBox error={list.error} />
      <table>
        <thead><tr><th>Attempt</th><th>Status</th><th>Launcher</th><th>Host</th><th>Last heartbeat</th><th>Started</th><th>Exit</th></tr></thead>
        <tbody>
          {list.data?.items.map((w) => (
            <tr key={w.id}>
              <td>{w.attempt}</td><td><StatusBadge status={w.status} /></td><td>{w.launcher}</td><td className="mono">{w.host ?? w.containerId ?? "–"}</td>
              <td>{ago(w.lastHeartbeatAt)}</td><td>{ago(w.startedAt)}</td><td>{w.exitCode ?? "–"}</td>
            </tr>
          ))}
          {list.data?.items.length === 0 && <tr><td colSpan={7} className="muted">No workers yet.</td></tr>}
        </tbody>
      </table>
    </div>
  );
}
