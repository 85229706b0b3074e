import type { ProblemResult, Scores } from "./result.ts";

/** The unbiased pass@k estimator of Chen et al. (2021): 1 − C(n−c, k) / C(n, k), in the
 * numerically stable product form 1 − ∏_{i=n−c+1}^{n} (1 − k/i) (no huge binomials). */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k)) throw new RangeError("pass@k needs integer n, c and k");
  if (n < 1 || c < 0 || c > n) throw new RangeError(`pass@k needs 0 ≤ c ≤ n and n ≥ 1 (n=${n}, c=${c})`);
  if (k < 1 || k > n) throw new RangeError(`pass@${k} needs 1 ≤ k ≤ n (n=${n})`);
  if (n - c < k) return 1;
  let miss = 1;
  for (let i = n - c + 1; i <= n; i++) miss *= 1 - k / i;
  return 1 - miss;
}

/** Mean pass@k over problems for each k that every problem has at least k samples for (as
 * EvalPlus reports), with accuracy, solved and total. An empty result list scores 0. */
export function summarise(results: readonly ProblemResult[], ks: readonly number[] = [1]): Scores {
  const scores = { accuracy: 0, solved: 0, total: results.length } as Scores;
  if (results.length === 0) {
    for (const k of ks) scores[`pass@${k}`] = 0;
    return scores;
  }
  const minN = Math.min(...results.map((r) => r.n));
  for (const k of [...new Set(ks)].sort((a, b) => a - b)) {
    if (k > minN) continue;
    scores[`pass@${k}`] = results.reduce((s, r) => s + passAtK(r.n, r.correct, k), 0) / results.length;
  }
  const samples = results.reduce((s, r) => s + r.n, 0);
  scores.accuracy = samples === 0 ? 0 : results.reduce((s, r) => s + r.correct, 0) / samples;
  scores.solved = results.filter((r) => r.correct > 0).length;
  return scores;
}
