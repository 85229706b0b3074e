import { PALETTE, type Line } from "../components/Chart.tsx";

// What the evaluation views compute from the evals router's rows: the headline score of an
// evaluation, scores over training steps per benchmark, the latest score per benchmark, and the
// four outcome groups of a problem-by-problem comparison.

/** The fields of an evaluation these helpers read (the router's rows have more). */
export interface EvalRow {
  id: string;
  benchmark: string;
  status: string;
  step: number | null;
  scores: unknown;
  finishedAt: string | null;
  createdAt: string;
}

/** pass@1 is the paper's figure for every benchmark (greedy decoding); accuracy is the fallback
 * for results that only report it. */
export function headlineScore(scores: unknown): number | null {
  if (!scores || typeof scores !== "object") return null;
  const s = scores as Record<string, unknown>;
  for (const key of ["pass@1", "accuracy"]) {
    const v = s[key];
    if (typeof v === "number" && Number.isFinite(v)) return v;
  }
  return null;
}

/** The other figures worth a column: every pass@k but pass@1, in k order. */
export function extraPassKeys(rows: readonly { scores: unknown }[]): string[] {
  const keys = new Set<string>();
  for (const r of rows) {
    if (r.scores && typeof r.scores === "object") for (const k of Object.keys(r.scores)) if (/^pass@\d+$/.test(k) && k !== "pass@1") keys.add(k);
  }
  return [...keys].sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
}

function finishedOrder(r: EvalRow): string {
  return r.finishedAt ?? r.createdAt;
}

/** One line per benchmark of its headline score over the steps it was evaluated at (completed
 * evaluations with a step); where a step was evaluated twice the later result counts. */
export function scoreLines(rows: readonly EvalRow[]): Line[] {
  const byBench = new Map<string, Map<number, EvalRow>>();
  for (const r of rows) {
    if (r.status !== "completed" || r.step === null || headlineScore(r.scores) === null) continue;
    const steps = byBench.get(r.benchmark) ?? new Map<number, EvalRow>();
    const prev = steps.get(r.step);
    if (!prev || finishedOrder(prev) < finishedOrder(r)) steps.set(r.step, r);
    byBench.set(r.benchmark, steps);
  }
  return [...byBench.keys()].sort().map((bench, i) => {
    const points = [...byBench.get(bench)!.entries()].sort((a, b) => a[0] - b[0]);
    return { label: bench, color: PALETTE[i % PALETTE.length]!, xs: points.map(([s]) => s), ys: points.map(([, r]) => headlineScore(r.scores)) };
  });
}

export interface LatestScore {
  evalId: string;
  score: number;
  step: number | null;
}

/** Per benchmark, the headline score of its most recently finished completed evaluation. */
export function latestScores(rows: readonly EvalRow[]): Map<string, LatestScore> {
  const best = new Map<string, EvalRow>();
  for (const r of rows) {
    if (r.status !== "completed" || headlineScore(r.scores) === null) continue;
    const prev = best.get(r.benchmark);
    if (!prev || finishedOrder(prev) < finishedOrder(r)) best.set(r.benchmark, r);
  }
  return new Map([...best.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([bench, r]) => [bench, { evalId: r.id, score: headlineScore(r.scores)!, step: r.step }]));
}

/** Evaluation columns of a runs table: per run its latest score per benchmark, and the
 * benchmarks to show a column for (those of most runs first, at most `maxColumns`). */
export function latestScoresByRun(rows: readonly (EvalRow & { runId: string | null })[], maxColumns = 4): { benchmarks: string[]; byRun: Map<string, Map<string, LatestScore>> } {
  const perRun = new Map<string, EvalRow[]>();
  for (const r of rows) if (r.runId) perRun.set(r.runId, [...(perRun.get(r.runId) ?? []), r]);
  const byRun = new Map([...perRun.entries()].map(([runId, rs]) => [runId, latestScores(rs)]));
  const runsWith = new Map<string, number>();
  for (const scores of byRun.values()) for (const b of scores.keys()) runsWith.set(b, (runsWith.get(b) ?? 0) + 1);
  const benchmarks = [...runsWith.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).slice(0, maxColumns).map(([b]) => b).sort();
  return { benchmarks, byRun };
}

/** Where a problem lands when evaluation A is compared with B. */
export type Outcome = "a-only" | "b-only" | "both" | "neither";
export const OUTCOMES: readonly Outcome[] = ["a-only", "b-only", "both", "neither"];

/** A problem solved by one side only is where the two evaluations differ. */
export function outcomeOf(aSolved: boolean, bSolved: boolean): Outcome {
  return aSolved ? (bSolved ? "both" : "a-only") : bSolved ? "b-only" : "neither";
}

export function outcomeLabel(o: Outcome, a: string, b: string): string {
  switch (o) {
    case "a-only":
      return `${a} solves, ${b} does not`;
    case "b-only":
      return `${b} solves, ${a} does not`;
    case "both":
      return "both solve";
    case "neither":
      return "neither solves";
  }
}

/** Active evaluations: the views poll while any is queued or running. */
export function anyActive(rows: readonly { status: string }[]): boolean {
  return rows.some((r) => r.status === "queued" || r.status === "running");
}
