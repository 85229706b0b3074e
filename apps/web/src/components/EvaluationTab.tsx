"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api, errorMessage, type RouterOutputs } from "../lib/api.ts";
import { anyActive, extraPassKeys, headlineScore, latestScores, scoreLines } from "../lib/evals.ts";
import { useEvalWatch, type EvalSummary } from "../lib/live.ts";
import { Chart } from "./Chart.tsx";
import { ago, ErrorBox, fmt, HoverLink, Progress, StatusBadge } from "./bits.tsx";

type EvalList = RouterOutputs["evals"]["list"];

/** The run page's Evaluation tab: benchmark scores over the run's checkpoints (its periodic
 * evaluations and the ones started on its checkpoints), every evaluation with live status and
 * progress, a form to evaluate a checkpoint, and two evaluations picked for a per-problem diff. */
export function EvaluationTab({ runId, runActive }: { runId: string; runActive: boolean }) {
  const qc = useQueryClient();
  const listKey = ["evals.list", runId];
  const list = useQuery({
    queryKey: listKey,
    queryFn: () => api().evals.list.query({ runId, limit: 500 }),
    // Active evaluations are followed over the WebSocket (below); a training run starts new
    // periodic ones, which a slow poll picks up.
    refetchInterval: (q) => (runActive || anyActive(q.state.data?.items ?? []) ? 10_000 : false),
  });
  const items = useMemo(() => list.data?.items ?? [], [list.data]);
  const activeIds = items.filter((e) => e.status === "queued" || e.status === "running").map((e) => e.id);
  useEvalWatch(activeIds, (changed) => {
    qc.setQueryData<EvalList>(listKey, (old) => {
      if (!old) return old;
      const byId = new Map(changed.map((c) => [c.id, c]));
      // Only what changes while an evaluation runs (the watch rows leave out who started it).
      return {
        ...old,
        items: old.items.map((e) => {
          const c = byId.get(e.id);
          return c ? { ...e, status: c.status, problemsDone: c.problemsDone, problemsTotal: c.problemsTotal, scores: c.scores, error: c.error, startedAt: c.startedAt, finishedAt: c.finishedAt } : e;
        }),
      };
    });
  });

  const lines = useMemo(() => scoreLines(items), [items]);
  const latest = useMemo(() => latestScores(items), [items]);
  const passKeys = useMemo(() => extraPassKeys(items), [items]);
  const [selected, setSelected] = useState<string[]>([]);
  const picked = selected.map((id) => items.find((e) => e.id === id)).filter((e): e is EvalSummary => e !== undefined);
  const diffProblem =
    picked.length !== 2
      ? "select two completed evaluations of one benchmark"
      : picked[0]!.benchmark !== picked[1]!.benchmark
        ? "the two evaluations are of different benchmarks"
        : picked.some((e) => e.status !== "completed")
          ? "only completed evaluations have per-problem results"
          : null;
  // The older evaluation is A, so "A solves, B does not" reads as what training lost.
  const [a, b] = [...picked].sort((x, y) => (x.step ?? -1) - (y.step ?? -1) || x.createdAt.localeCompare(y.createdAt));
  const toggle = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s.slice(-1), id]));

  const cancel = useMutation({
    mutationFn: (id: string) => api().evals.cancel.mutate({ id, reason: "cancelled from the dashboard" }),
    onSuccess: () => qc.invalidateQueries({ queryKey: listKey }),
  });

  return (
    <>
      <ErrorBox error={list.error} />
      <div className="summary-cards" data-testid="eval-latest" style={{ marginBottom: 12 }}>
        {[...latest.entries()].map(([bench, s]) => (
          <div className="card" key={bench} data-benchmark={bench}>
            <div className="k">{bench} pass@1{s.step !== null ? ` · step ${s.step}` : ""}</div>
            <div className="v mono">{fmt(s.score)}</div>
          </div>
        ))}
        {list.isSuccess && latest.size === 0 && <p className="muted">No completed evaluation yet.</p>}
      </div>
      <div className="charts" style={{ gridTemplateColumns: "minmax(420px, 2fr) minmax(320px, 1fr)" }}>
        <Chart title="pass@1 per benchmark over checkpoints" lines={lines} points />
        <StartEvaluation runId={runId} onStarted={() => void qc.invalidateQueries({ queryKey: listKey })} />
      </div>
      <h2 className="row">
        Evaluations <span className="grow" />
        {a && b && !diffProblem ? (
          <HoverLink className="button" href={`/evals/diff?a=${a.id}&b=${b.id}`} data-testid="diff-selected">Per-problem diff of the two selected</HoverLink>
        ) : (
          <button disabled title={diffProblem ?? ""} data-testid="diff-selected">Per-problem diff of the two selected</button>
        )}
      </h2>
      <ErrorBox error={cancel.error} />
      <div className="panel" style={{ padding: 0 }}>
        <table data-testid="evals">
          <thead>
            <tr>
              <th style={{ width: 28 }} />
              <th>Benchmark</th><th>Step</th><th>Origin</th><th>Status</th><th>Progress</th><th>pass@1</th>
              {passKeys.map((k) => <th key={k}>{k}</th>)}
              <th>Solved</th><th>Started by</th><th>Created</th><th />
            </tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.id} data-eval-id={e.id} data-benchmark={e.benchmark}>
                <td><input type="checkbox" aria-label={`select evaluation ${e.benchmark} ${e.step ?? ""}`} checked={selected.includes(e.id)} onChange={() => toggle(e.id)} /></td>
                <td className="mono">{e.benchmark}</td>
                <td>{e.step ?? "–"}</td>
                <td>{e.origin === "periodic" ? "during training" : "on checkpoint"}</td>
                <td>
                  <StatusBadge status={e.status} />
                  {e.error && <div className="muted" style={{ fontSize: 11.5, maxWidth: 320 }} title={e.error}>{e.error.length > 120 ? `${e.error.slice(0, 120)}…` : e.error}</div>}
                </td>
                <td>{e.problemsTotal > 0 ? <Progress current={e.problemsDone} total={e.problemsTotal} /> : <span className="muted">–</span>}</td>
                <td className="mono" data-testid="pass1">{fmt(headlineScore(e.scores))}</td>
                {passKeys.map((k) => <td key={k} className="mono">{fmt(e.scores[k])}</td>)}
                <td className="mono">{e.status === "completed" ? `${e.scores.solved ?? "–"}/${e.scores.total ?? "–"}` : "–"}</td>
                <td data-testid="started-by">{e.createdByName ?? (e.origin === "periodic" ? "the run" : "–")}</td>
                <td title={e.createdAt}>{ago(e.createdAt)}</td>
                <td>
                  {e.origin === "user" && (e.status === "queued" || e.status === "running") && (
                    <button className="danger" disabled={cancel.isPending} onClick={() => confirm(`Cancel the ${e.benchmark} evaluation?`) && cancel.mutate(e.id)}>Cancel</button>
                  )}
                </td>
              </tr>
            ))}
            {list.isSuccess && items.length === 0 && (
              <tr><td colSpan={11 + passKeys.length} className="muted">No evaluations yet: start one on a checkpoint, or set the run config&apos;s eval section to evaluate during training.</td></tr>
            )}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** Evaluate one of the run's checkpoints on chosen benchmarks (an eval job in the run's pool). */
function StartEvaluation({ runId, onStarted }: { runId: string; onStarted: () => void }) {
  const checkpoints = useQuery({ queryKey: ["checkpoints", runId], queryFn: () => api().checkpoints.list.query({ runId }) });
  const benchmarks = useQuery({ queryKey: ["evals.benchmarks"], staleTime: 60_000, queryFn: () => api().evals.benchmarks.query() });
  const [checkpointId, setCheckpointId] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [limit, setLimit] = useState("");
  const ckpts = checkpoints.data?.items ?? [];
  const ckpt = checkpointId || ckpts[ckpts.length - 1]?.id || "";
  const limitNum = limit.trim() === "" ? undefined : Number(limit);
  const limitError = limitNum !== undefined && !(Number.isInteger(limitNum) && limitNum > 0) ? "a whole number of problems above 0" : null;
  const start = useMutation({
    mutationFn: () => api().evals.start.mutate({ runId, checkpointId: ckpt, benchmarks: chosen, ...(limitNum !== undefined ? { overrides: { limit: limitNum } } : {}) }),
    onSuccess: () => {
      setChosen([]);
      onStarted();
    },
  });
  return (
    <form
      className="panel"
      data-testid="start-eval"
      onSubmit={(e) => {
        e.preventDefault();
        start.mutate();
      }}
    >
      <div className="title" style={{ fontWeight: 600, fontSize: 12.5, marginBottom: 8 }}>Evaluate a checkpoint</div>
      {checkpoints.isSuccess && ckpts.length === 0 ? (
        <p className="muted">The run has no checkpoint yet.</p>
      ) : (
        <div className="form-grid" style={{ gridTemplateColumns: "1fr 1fr" }}>
          <label>checkpoint
            <select value={ckpt} onChange={(e) => setCheckpointId(e.target.value)} aria-label="checkpoint">
              {ckpts.map((c) => <option key={c.id} value={c.id}>step {c.step}</option>)}
            </select>
          </label>
          <label>problems (blank: all)
            <input value={limit} onChange={(e) => setLimit(e.target.value)} inputMode="numeric" placeholder="all" aria-label="problem limit" aria-invalid={limitError ? true : undefined} />
            {limitError && <span className="field-error">{limitError}</span>}
          </label>
        </div>
      )}
      <div style={{ margin: "10px 0" }} role="group" aria-label="benchmarks">
        {benchmarks.data?.items.map((bm) => (
          <label key={bm.name} className="tag row" style={{ gap: 4, display: "inline-flex", margin: "0 6px 6px 0", opacity: bm.source ? 1 : 0.55 }} title={bm.source ? `${bm.title} (${bm.kind}) from ${bm.source}` : `${bm.title}: no data on this server (an admin sets benchmarks.${bm.name}.source)`}>
            <input type="checkbox" disabled={!bm.source} checked={chosen.includes(bm.name)} onChange={() => setChosen((c) => (c.includes(bm.name) ? c.filter((x) => x !== bm.name) : [...c, bm.name]))} />
            {bm.name}
          </label>
        ))}
      </div>
      <ErrorBox error={benchmarks.error ?? checkpoints.error} />
      {start.error && <p className="error" role="alert">{errorMessage(start.error)}</p>}
      <button type="submit" className="primary" disabled={!ckpt || chosen.length === 0 || limitError !== null || start.isPending}>
        {start.isPending ? "Starting…" : `Evaluate${chosen.length ? ` on ${chosen.length} benchmark${chosen.length > 1 ? "s" : ""}` : ""}`}
      </button>
    </form>
  );
}
