import type { ExecutorPool } from "@azr/executor";
import type { BenchmarkDefinition } from "./definition.ts";
import { extractMathAnswer } from "./extract.ts";
import { latexToSympy, normalizeAnswer, numericEqual, numericValue } from "./math-normalize.ts";
import { sympyEquivalent, type SympyCheck } from "./math-sympy.ts";
import type { MathProblem } from "./problem.ts";
import type { ProblemResult, SampleResult } from "./result.ts";

// Math scoring: extract → normalise → exact, then numeric (both sides plain numbers: decided here,
// sympy could not disagree), then symbolic in the sandbox for the rest. Symbolic checks of all
// problems are deduplicated and batched into few jobs.

export interface MathItem {
  problem: MathProblem;
  completions: readonly string[];
}

type Pending = { item: number; sample: number; check: SympyCheck };

export async function scoreMath(def: BenchmarkDefinition, items: readonly MathItem[], executor: ExecutorPool): Promise<ProblemResult[]> {
  const samples: SampleResult[][] = items.map(() => []);
  const pending: Pending[] = [];
  items.forEach(({ problem, completions }, i) => {
    const gold = normalizeAnswer(problem.answer);
    const goldNum = numericValue(gold);
    completions.forEach((completion, j) => {
      const got = extractMathAnswer(completion);
      if (!got.ok) {
        samples[i]![j] = { completion, extracted: null, correct: false, status: "format", detail: "no <answer> tag and no \\boxed{} answer" };
        return;
      }
      const pred = normalizeAnswer(got.text);
      if (pred === gold) {
        samples[i]![j] = { completion, extracted: got.text, correct: true, status: "pass", detail: `exact: ${pred}` };
        return;
      }
      const predNum = numericValue(pred);
      if (predNum !== undefined && goldNum !== undefined) {
        const ok = numericEqual(predNum, goldNum);
        samples[i]![j] = { completion, extracted: got.text, correct: ok, status: ok ? "pass" : "wrong-answer", detail: `numeric: ${pred} ${ok ? "=" : "≠"} ${gold}` };
        return;
      }
      pending.push({ item: i, sample: j, check: { a: latexToSympy(pred), b: latexToSympy(gold) } });
      samples[i]![j] = { completion, extracted: got.text, correct: false, status: "wrong-answer", detail: `${pred} vs ${gold}` };
    });
  });

  // Identical (answer, gold) pairs are checked once.
  const unique = new Map<string, number>();
  const checks: SympyCheck[] = [];
  const slot = pending.map((p) => {
    const key = `${p.check.a}\u0000${p.check.b}`;
    let k = unique.get(key);
    if (k === undefined) {
      k = checks.length;
      checks.push(p.check);
      unique.set(key, k);
    }
    return k;
  });
  const verdicts = await sympyEquivalent(executor, checks, { limitMs: def.limits.timeoutMs, memoryMb: def.limits.memoryMb });
  pending.forEach((p, n) => {
    const v = verdicts[slot[n]!]!;
    const s = samples[p.item]![p.sample]!;
    s.correct = v.equal;
    s.status = v.equal ? "pass" : "wrong-answer";
    s.detail = `symbolic (${v.detail}): ${s.detail.replace(" vs ", v.equal ? " = " : " ≠ ")}`;
  });

  return items.map(({ problem }, i) => {
    const list = samples[i]!;
    return { problemId: problem.id, samples: list, correct: list.filter((s) => s.correct).length, n: list.length };
  });
}
