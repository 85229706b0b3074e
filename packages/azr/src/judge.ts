import type { CallOutcome, ExecResult, PyValue } from "@azr/protocol";
import { pyEqual } from "./pyequal.ts";
import { parseLiteral } from "./pyliteral.ts";
import { isLiteralValue, pyRepr } from "./pyrepr.ts";

// Judging from the plain values the executor returns (azr-spec §2–3, §9). Nothing here runs code.

export type InvalidReason =
  | "format"
  | "no-code"
  | "no-input"
  | "no-message"
  | "too-few-inputs"
  | "no-function"
  | "multiple-functions"
  | "ambiguous-entry"
  | "banned-import"
  | "syntax"
  | "input-call"
  | "def-rule"
  | "timeout"
  | "memory"
  | "output-limit"
  | "sandbox-failure"
  | "runtime-error"
  | "nondeterministic"
  | "unserialisable-output"
  | "value-too-large"
  | "non-literal-output"
  | "output-too-long"
  | "missing-result"
  | "duplicate";

export type GoldCapture = { ok: true; value: PyValue; repr: string } | { ok: false; reason: InvalidReason; detail?: string };

function jobFailure(result: ExecResult): GoldCapture | undefined {
  if (result.status === "ok") return undefined;
  const reason: InvalidReason = result.status === "error" ? "runtime-error" : result.status;
  return { ok: false, reason, detail: result.error ? `${result.error.type}: ${result.error.message}` : undefined };
}

function callFailure(o: CallOutcome): GoldCapture {
  switch (o.status) {
    case "error":
      return { ok: false, reason: "runtime-error", detail: `${o.errorType}: ${o.message}` };
    case "unserialisable":
      return { ok: false, reason: "unserialisable-output", detail: o.typeName };
    case "value-too-large":
      return { ok: false, reason: "value-too-large", detail: `${o.bytes} bytes` };
    case "timeout":
      return { ok: false, reason: "timeout" };
    default:
      return { ok: false, reason: "missing-result" };
  }
}

/** Gold output of one argument list called twice: both calls succeed, return equal values
 * (Python `==`, as the reference's `!=` check), the value has a literal repr, and that repr fits
 * in `maxOutputChars`. */
export function captureGold(repeats: readonly CallOutcome[] | undefined, maxOutputChars: number): GoldCapture {
  if (!repeats || repeats.length < 2) return { ok: false, reason: "missing-result" };
  const [a, b] = repeats as [CallOutcome, CallOutcome];
  if (a.status !== "ok") return callFailure(a);
  if (b.status !== "ok") return callFailure(b);
  if (!pyEqual(a.value, b.value)) return { ok: false, reason: "nondeterministic" };
  if (!isLiteralValue(a.value)) return { ok: false, reason: "non-literal-output" };
  const repr = pyRepr(a.value);
  if (repr.length > maxOutputChars) return { ok: false, reason: "output-too-long", detail: `${repr.length} chars` };
  return { ok: true, value: a.value, repr };
}

/** A deduction/abduction proposal's run: one argument list, two calls. */
export function judgeTripletProposalRun(result: ExecResult, maxOutputChars: number): GoldCapture {
  return jobFailure(result) ?? captureGold(result.calls[0], maxOutputChars);
}

export type InductionCapture = { ok: true; outputs: string[] } | { ok: false; reason: InvalidReason; detail?: string; input?: number };

/** An induction proposal's run: every input must yield a deterministic literal output. */
export function judgeInductionProposalRun(result: ExecResult, inputCount: number, maxOutputChars: number): InductionCapture {
  const failed = jobFailure(result);
  if (failed && !failed.ok) return failed;
  const outputs: string[] = [];
  for (let i = 0; i < inputCount; i++) {
    const g = captureGold(result.calls[i], maxOutputChars);
    if (!g.ok) return { ...g, input: i };
    outputs.push(g.repr);
  }
  return { ok: true, outputs };
}

const goldCache = new Map<string, PyValue | null>();

/** A stored gold repr as a value (memoised: the same gold is judged n times per step). */
export function goldValue(repr: string): PyValue | undefined {
  let v = goldCache.get(repr);
  if (v === undefined) {
    const r = parseLiteral(repr);
    v = r.ok ? r.value : null;
    if (goldCache.size > 50_000) goldCache.clear();
    goldCache.set(repr, v);
  }
  return v ?? undefined;
}

/** Deduction: the exact-string shortcut first, then literal value equality. A non-literal
 * answer is wrong, never evaluated. */
export function judgeDeduction(answer: string, goldRepr: string): 0 | 1 {
  const text = answer.trim();
  if (text === goldRepr.trim()) return 1;
  const gold = goldValue(goldRepr);
  const got = parseLiteral(text);
  return gold !== undefined && got.ok && pyEqual(got.value, gold) ? 1 : 0;
}

/** Abduction: `f(answer)` came back equal to the gold value. */
export function judgeAbduction(result: ExecResult, goldRepr: string): 0 | 1 {
  if (result.status !== "ok") return 0;
  const o = result.calls[0]?.[0];
  const gold = goldValue(goldRepr);
  return o?.status === "ok" && gold !== undefined && pyEqual(o.value, gold) ? 1 : 0;
}

/** Induction: the solver's `f` on every hidden input equals the hidden output. `binary` gives 1
 * only if all pass; `accuracy` gives the fraction that pass. */
export function judgeInduction(result: ExecResult, hiddenOutputs: readonly string[], mode: "binary" | "accuracy"): number {
  if (hiddenOutputs.length === 0) return 0;
  let passed = 0;
  if (result.status === "ok") {
    hiddenOutputs.forEach((out, i) => {
      const o = result.calls[i]?.[0];
      const gold = goldValue(out);
      if (o?.status === "ok" && gold !== undefined && pyEqual(o.value, gold)) passed++;
    });
  }
  if (mode === "binary") return passed === hiddenOutputs.length ? 1 : 0;
  return passed / hiddenOutputs.length;
}
