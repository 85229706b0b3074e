"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMemo, useState } from "react";
import { api, type RouterInputs, type RunStatus } from "../lib/api.ts";
import { ago, ErrorBox, fmt, Progress, Sparkline, StatusBadge } from "../components/bits.tsx";
import { latestScoresByRun } from "../lib/evals.ts";

const STATUSES: RunStatus[] = ["queued", "provisioning", "running", "checkpointing", "paused", "completed", "failed", "cancelled"];
/** Key metrics shown in the list: the last value and a sparkline of each. */
const KEY_METRICS = [
  { key: "reward/solve/mean", label: "solve reward" },
  { key: "train/loss", label: "loss" },
];

export default function RunsPage() {
  const router = useRouter();
  const [status, setStatus] = useState<RunStatus | "">("");
  const [name, setName] = useState("");
  const [tag, setTag] = useState("");
  const [owner, setOwner] = useState("");
  const [archived, setArchived] = useState(false);
  const [selected, setSelected] = useState<string[]>([]);

  const input: RouterInputs["runs"]["list"] = {
    archived,
    limit: 100,
    ...(status ? { status: [status] } : {}),
    ...(name.trim() ? { name: name.trim() } : {}),
    ...(tag.trim() ? { tag: tag.trim() } : {}),
    ...(owner.trim() ? { owner: owner.trim() } : {}),
  };
  // Live status: the list refreshes every 2 s (one small indexed query).
  const runs = useQuery({ queryKey: ["runs.list", input], queryFn: () => api().runs.list.query(input), refetchInterval: 2_000, placeholderData: (p) => p });
  const ids = useMemo(() => (runs.data?.items ?? []).map((r) => r.id), [runs.data]);
  const latest = useQuery({
    queryKey: ["metrics.latest", ids],
    enabled: ids.length > 0,
    refetchInterval: 5_000,
    queryFn: () => api().metrics.latest.query({ runIds: ids, keys: KEY_METRICS.map((m) => m.key) }),
  });
  const sparkIds = ids.slice(0, 20);
  const sparks = useQuery({
    queryKey: ["metrics.sparks", sparkIds],
    enabled: sparkIds.length > 0,
    refetchInterval: 10_000,
    queryFn: () => api().metrics.series.query({ runIds: sparkIds, keys: KEY_METRICS.map((m) => m.key), points: 40 }),
  });
  // Evaluation columns: each listed run's latest completed score per benchmark.
  const evals = useQuery({
    queryKey: ["evals.latest", ids],
    enabled: ids.length > 0,
    refetchInterval: 10_000,
    queryFn: () => api().evals.list.query({ runIds: ids.slice(0, 200), status: ["completed"], limit: 500 }),
  });
  const evalScores = useMemo(() => latestScoresByRun(evals.data?.items ?? []), [evals.data]);
  const value = (runId: string, key: string) => latest.data?.values.find((v) => v.runId === runId && v.key === key)?.value ?? null;
  const spark = (runId: string, key: string) => sparks.data?.series.find((s) => s.runId === runId && s.key === key)?.buckets.map((b) => b.mean) ?? [];
  const toggle = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : s.length >= 10 ? s : [...s, id]));

  return (
    <>
      <h1>
        Runs <span className="grow" />
        <button disabled={selected.length < 2} onClick={() => router.push(`/compare?runs=${selected.join(",")}`)} data-testid="compare-selected">
          Compare {selected.length > 0 ? `(${selected.length})` : ""}
        </button>
        <Link href="/launch" className="button primary">Launch run</Link>
      </h1>
      <div className="row panel" style={{ marginBottom: 12 }}>
        <input placeholder="Search by name" value={name} onChange={(e) => setName(e.target.value)} aria-label="search" />
        <select value={status} onChange={(e) => setStatus(e.target.value as RunStatus | "")} aria-label="status filter">
          <option value="">any status</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <input placeholder="tag" value={tag} onChange={(e) => setTag(e.target.value)} aria-label="tag filter" style={{ width: 120 }} />
        <input placeholder="owner" value={owner} onChange={(e) => setOwner(e.target.value)} aria-label="owner filter" style={{ width: 120 }} />
        <label className="row muted" style={{ gap: 4 }}><input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} /> archived</label>
        <span className="grow" />
        <span className="muted">{runs.data ? `${runs.data.items.length} runs` : ""}</span>
      </div>
      <ErrorBox error={runs.error} />
      <div className="panel" style={{ padding: 0 }}>
        <table data-testid="runs-table">
          <thead>
            <tr>
              <th style={{ width: 28 }} />
              <th>Name</th><th>Status</th><th>Progress</th>
              {KEY_METRICS.map((m) => <th key={m.key}>{m.label}</th>)}
              {evalScores.benchmarks.map((b) => <th key={b} title={`${b}: pass@1 of the run's latest evaluation`} data-testid="eval-column">{b}</th>)}
              <th>Model</th><th>Pool</th><th>Owner</th><th>Created</th>
            </tr>
          </thead>
          <tbody>
            {runs.data?.items.map((r) => (
              <tr key={r.id} data-run-id={r.id}>
                <td><input type="checkbox" aria-label={`select ${r.name}`} checked={selected.includes(r.id)} onChange={() => toggle(r.id)} /></td>
                <td>
                  <Link href={`/runs/${r.id}`}>{r.name}</Link>
                  <div>{r.tags.map((t) => <span className="tag" key={t}>{t}</span>)}</div>
                </td>
                <td><StatusBadge status={r.status} /></td>
                <td><Progress current={r.currentStep} total={r.totalSteps} /></td>
                {KEY_METRICS.map((m) => (
                  <td key={m.key}><div className="row" style={{ gap: 6 }}>{spark(r.id, m.key).length > 1 && <Sparkline values={spark(r.id, m.key)} />}<span className="mono">{fmt(value(r.id, m.key))}</span></div></td>
                ))}
                {evalScores.benchmarks.map((b) => {
                  const s = evalScores.byRun.get(r.id)?.get(b);
                  return (
                    <td key={b} className="mono" data-benchmark={b}>
                      {s ? <Link href={`/runs/${r.id}?tab=evaluation`} title={s.step !== null ? `step ${s.step}` : ""}>{fmt(s.score)}</Link> : <span className="muted">–</span>}
                    </td>
                  );
                })}
                <td className="mono">{r.modelName}</td>
                <td>{r.poolName}</td>
                <td>{r.ownerName}</td>
                <td title={r.createdAt}>{ago(r.createdAt)}</td>
              </tr>
            ))}
            {runs.data && runs.data.items.length === 0 && (
              <tr><td colSpan={11 + evalScores.benchmarks.length} className="muted" style={{ padding: 30, textAlign: "center" }}>No runs match. <Link href="/launch">Launch one.</Link></td></tr>
            )}
          </tbody>
        </table>
      </div>
    </>
  );
}
