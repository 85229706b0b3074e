"use client";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { usePathname } from "next/navigation";
import { Suspense, useMemo } from "react";
import { api, type RouterOutputs } from "../../../lib/api.ts";
import { headlineScore, outcomeLabel, type Outcome } from "../../../lib/evals.ts";
import { useUrlState } from "../../../lib/url-state.ts";
import { EvalAnswer, guessKind, type BenchmarkKind } from "../../../components/EvalAnswer.tsx";
import { ErrorBox, fmt, HoverLink, StatusBadge } from "../../../components/bits.tsx";

type Comparison = RouterOutputs["evals"]["compare"];
type Item = Comparison["items"][number];
type Summary = Comparison["a"];
/** What the page lists: the problems where the two differ (default), one outcome, or all. */
type Show = "differ" | Outcome | "all";
const SHOWS: Show[] = ["differ", "a-only", "b-only", "both", "neither", "all"];

/** One outcome's problems (or all of them), a page at a time in benchmark order. */
function useComparedProblems(a: string, b: string, category: Outcome | undefined, enabled: boolean) {
  return useInfiniteQuery({
    queryKey: ["evals.compare", a, b, category ?? "all"],
    enabled,
    initialPageParam: -1,
    queryFn: ({ pageParam }) => api().evals.compare.query({ a, b, afterIndex: pageParam, limit: 100, ...(category ? { category } : {}) }),
    getNextPageParam: (last) => last.nextAfterIndex ?? undefined,
  });
}

function DiffPageInner() {
  const { params, update } = useUrlState();
  const pathname = usePathname();
  const a = params.get("a") ?? "";
  const b = params.get("b") ?? "";
  const show: Show = SHOWS.find((s) => s === params.get("show")) ?? "differ";
  const text = params.get("q") ?? "";

  const ready = a !== "" && b !== "";
  // "differ" lists A's wins and B's wins; the router filters one outcome per call.
  const first = useComparedProblems(a, b, show === "differ" ? "a-only" : show === "all" ? undefined : show, ready);
  const second = useComparedProblems(a, b, "b-only", ready && show === "differ");
  const head = first.data?.pages[0];
  const benchmarks = useQuery({ queryKey: ["evals.benchmarks"], staleTime: 60_000, queryFn: () => api().evals.benchmarks.query() });
  const runIds = [...new Set([head?.a.runId, head?.b.runId].filter((x): x is string => !!x))];
  const runs = useQuery({
    queryKey: ["runs.names", runIds],
    enabled: runIds.length > 0,
    queryFn: async () => new Map((await Promise.all(runIds.map((id) => api().runs.get.query({ id })))).map((r) => [r.id, r.name])),
  });

  const items = useMemo(() => {
    const all = [...(first.data?.pages.flatMap((p) => p.items) ?? []), ...(show === "differ" ? (second.data?.pages.flatMap((p) => p.items) ?? []) : [])].sort((x, y) => x.index - y.index);
    const q = text.trim().toLowerCase();
    if (!q) return all;
    return all.filter((it) => [it.problemId, it.prompt, ...it.a.samples.map((s) => s.extracted ?? ""), ...it.b.samples.map((s) => s.extracted ?? "")].some((s) => s.toLowerCase().includes(q)));
  }, [first.data, second.data, show, text]);

  if (!ready) return <p className="muted panel">Pick two evaluations of one benchmark: on a run&apos;s Evaluation tab select two, or follow a benchmark&apos;s diff link on the compare page.</p>;
  const error = first.error ?? second.error;
  if (error) return <><h1>Per-problem diff</h1><ErrorBox error={error} /></>;
  if (!head) return <p className="muted">Loading…</p>;

  const name = (s: Summary) => (s.runId ? (runs.data?.get(s.runId) ?? s.runId.slice(0, 8)) : (s.modelName ?? "model"));
  const describe = (s: Summary) => `${name(s)}${s.step !== null ? ` @ step ${s.step}` : ""}`;
  const [la, lb] = [`A: ${describe(head.a)}`, `B: ${describe(head.b)}`];
  const kind: BenchmarkKind = benchmarks.data?.items.find((x) => x.name === head.a.benchmark)?.kind ?? guessKind(items.flatMap((it) => [it.a.samples[0]?.extracted, it.b.samples[0]?.extracted]));
  const c = head.counts;
  const count: Record<Show, number> = { differ: c.aOnly + c.bOnly, "a-only": c.aOnly, "b-only": c.bOnly, both: c.both, neither: c.neither, all: c.aOnly + c.bOnly + c.both + c.neither };
  const showLabel = (s: Show) => (s === "differ" ? "solved by one only" : s === "all" ? "all" : outcomeLabel(s, "A", "B"));
  const hasMore = first.hasNextPage || (show === "differ" && second.hasNextPage);

  return (
    <>
      <h1>
        Per-problem diff <span className="mono" style={{ fontSize: 14 }}>{head.a.benchmark}</span>
        <span className="grow" />
        <HoverLink className="button" href={`${pathname}?${new URLSearchParams({ ...Object.fromEntries(params.entries()), a: b, b: a }).toString()}`} data-testid="swap">Swap A and B</HoverLink>
      </h1>
      <div className="summary-cards" style={{ marginBottom: 12 }}>
        {([["A", head.a], ["B", head.b]] as const).map(([side, s]) => (
          <div className="card" key={side} data-testid={`side-${side.toLowerCase()}`} style={{ minWidth: 260 }}>
            <div className="k">{side} · {s.origin === "periodic" ? "during training" : "on checkpoint"} · <StatusBadge status={s.status} /></div>
            <div className="v" style={{ fontSize: 15 }}>
              {s.runId ? <HoverLink href={`/runs/${s.runId}?tab=evaluation`}>{describe(s)}</HoverLink> : describe(s)}
            </div>
            <div className="muted">pass@1 <span className="mono">{fmt(headlineScore(s.scores))}</span> · solved {s.scores.solved ?? "–"}/{s.scores.total ?? "–"}</div>
          </div>
        ))}
      </div>
      <div className="row panel" style={{ marginBottom: 12 }} role="group" aria-label="show">
        {SHOWS.map((s) => (
          <button key={s} className={show === s ? "primary" : ""} aria-pressed={show === s} data-testid={`show-${s}`} onClick={() => update({ show: s === "differ" ? null : s })}>
            {showLabel(s)} <span className="mono">({count[s]})</span>
          </button>
        ))}
        <span className="grow" />
        <input placeholder="filter: problem id, prompt or answer" value={text} onChange={(e) => update({ q: e.target.value })} aria-label="filter problems" style={{ width: 280 }} />
      </div>
      {(c.missingInA > 0 || c.missingInB > 0) && (
        <p className="muted">Not compared: {c.missingInA} problem(s) only B answered, {c.missingInB} only A answered (different problem limits or benchmark files).</p>
      )}
      <div data-testid="eval-diff">
        {items.map((it) => <ProblemRow key={it.problemId} item={it} kind={kind} labels={[la, lb]} />)}
        {!first.isFetching && items.length === 0 && <p className="muted panel" data-testid="no-problems">No problems {text ? "match the filter" : `where ${showLabel(show)}`}.</p>}
      </div>
      {hasMore && (
        <button style={{ marginTop: 10 }} onClick={() => { if (first.hasNextPage) void first.fetchNextPage(); if (show === "differ" && second.hasNextPage) void second.fetchNextPage(); }}>Load more</button>
      )}
    </>
  );
}

function ProblemRow({ item, kind, labels }: { item: Item; kind: BenchmarkKind; labels: [string, string] }) {
  return (
    <section className="panel" style={{ marginBottom: 10 }} data-problem-id={item.problemId} data-category={item.category}>
      <div className="row" style={{ marginBottom: 6 }}>
        <strong className="mono">{item.problemId}</strong>
        <span className={`badge ${item.category === "a-only" ? "failed" : item.category === "b-only" ? "completed" : "cancelled"}`} data-testid="category">{outcomeLabel(item.category, "A", "B")}</span>
        <span className="muted">#{item.index + 1}</span>
      </div>
      <details>
        <summary className="muted" style={{ cursor: "pointer" }}>prompt</summary>
        <pre className="code">{item.prompt}</pre>
      </details>
      <div style={{ display: "grid", gridTemplateColumns: "minmax(0, 1fr) minmax(0, 1fr)", gap: 10, marginTop: 8 }}>
        <div data-side="a"><EvalAnswer side={item.a} kind={kind} label={labels[0]} /></div>
        <div data-side="b"><EvalAnswer side={item.b} kind={kind} label={labels[1]} /></div>
      </div>
    </section>
  );
}

export default function EvalDiffPage() {
  return (
    <Suspense>
      <DiffPageInner />
    </Suspense>
  );
}
