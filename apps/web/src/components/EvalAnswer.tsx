"use client";
import type { RouterOutputs } from "../lib/api.ts";
import { Python } from "./Python.tsx";

type Side = RouterOutputs["evals"]["compare"]["items"][number]["a"];
export type BenchmarkKind = "code" | "math" | "io";

/** The sample a side is judged by: its first correct one when it solved the problem, else its
 * first (greedy decoding has one). */
export function shownSample(side: Side): { sample: Side["samples"][number] | undefined; index: number } {
  const i = side.solved ? side.samples.findIndex((s) => s.correct) : 0;
  const index = Math.max(0, i);
  return { sample: side.samples[index], index };
}

/** One side of a compared problem: the verdict, the graded answer (a program or a predicted
 * input/output as Python, a math answer as text) and the whole completion on demand. */
export function EvalAnswer({ side, kind, label }: { side: Side; kind: BenchmarkKind; label: string }) {
  const { sample, index } = shownSample(side);
  return (
    <div data-testid="answer" className="panel" style={{ padding: "8px 10px", minWidth: 0 }}>
      <div className="row" style={{ gap: 8, marginBottom: 6 }}>
        <strong>{label}</strong>
        <span className={`badge ${side.solved ? "completed" : "failed"}`} data-testid="verdict">{side.solved ? "solved" : (sample?.status ?? "no answer")}</span>
        <span className="muted mono">{side.correct}/{side.n} correct</span>
        {side.samples.length > 1 && <span className="muted">sample {index + 1} of {side.samples.length}</span>}
      </div>
      {sample?.extracted == null ? (
        <p className="muted" data-testid="extracted">nothing to grade in this answer</p>
      ) : kind === "math" ? (
        <pre className="code" data-testid="extracted">{sample.extracted}</pre>
      ) : (
        <div data-testid="extracted"><Python code={sample.extracted} /></div>
      )}
      {sample?.detail && <p className="muted mono" style={{ whiteSpace: "pre-wrap", fontSize: 12, margin: "6px 0" }} data-testid="detail">{sample.detail}</p>}
      {sample && (
        <details>
          <summary className="muted" style={{ cursor: "pointer" }}>whole completion ({sample.completion.length} characters)</summary>
          <pre className="code">{sample.completion}</pre>
        </details>
      )}
    </div>
  );
}

/** The kind of a benchmark the server no longer lists (a removed custom one): code if the
 * answers look like Python definitions, else text. */
export function guessKind(answers: (string | null | undefined)[]): BenchmarkKind {
  return answers.some((a) => a && /^\s*(def|class|import|from)\s/m.test(a)) ? "code" : "math";
}
