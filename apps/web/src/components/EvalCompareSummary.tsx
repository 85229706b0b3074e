"use client";
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { api } from "../lib/api.ts";
import { latestScoresByRun } from "../lib/evals.ts";
import { ErrorBox, fmt, HoverLink } from "./bits.tsx";

/** Compare's evaluation summary: a row per benchmark, each run's latest pass@1 on it, and a
 * per-problem diff against the first run where both have been evaluated. */
export function EvalCompareSummary({ runIds, label, color }: { runIds: string[]; label: (id: string) => string; color: (i: number) => string }) {
  const evals = useQuery({
    queryKey: ["evals.compare-runs", runIds],
    enabled: runIds.length >= 2,
    refetchInterval: 10_000,
    queryFn: () => api().evals.list.query({ runIds, status: ["completed"], limit: 500 }),
  });
  const { benchmarks, byRun } = useMemo(() => latestScoresByRun(evals.data?.items ?? [], Infinity), [evals.data]);
  if (evals.error) return <ErrorBox error={evals.error} />;
  if (!evals.data || benchmarks.length === 0) return null;
  const [base, ...others] = runIds;
  return (
    <>
      <h2>Evaluation (latest pass@1 per benchmark)</h2>
      <div className="panel" style={{ padding: 0 }}>
        <table data-testid="eval-summary">
          <thead>
            <tr><th>Benchmark</th>{runIds.map((id, i) => <th key={id} style={{ color: color(i) }}>{label(id)}</th>)}</tr>
          </thead>
          <tbody>
            {benchmarks.map((b) => {
              const first = byRun.get(base!)?.get(b);
              return (
                <tr key={b} data-benchmark={b}>
                  <td className="mono">{b}</td>
                  {[base!, ...others].map((id, i) => {
                    const s = byRun.get(id)?.get(b);
                    return (
                      <td key={id} data-run-id={id}>
                        {s ? (
                          <span className="row" style={{ gap: 8 }}>
                            <span className="mono" data-testid="score">{fmt(s.score)}</span>
                            {s.step !== null && <span className="muted">step {s.step}</span>}
                            {i > 0 && first && (
                              <HoverLink href={`/evals/diff?a=${first.evalId}&b=${s.evalId}`} data-testid="eval-diff-link" title={`problem by problem: ${label(base!)} vs ${label(id)}`}>diff vs {label(base!)}</HoverLink>
                            )}
                          </span>
                        ) : (
                          <span className="muted">–</span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
