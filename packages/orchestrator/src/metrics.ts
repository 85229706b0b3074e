import type { StepOutcome } from "./step-engine.ts";

/** The step's figures as flat metric keys (`group/name`), the shape charts and compare use. */
export function stepMetrics(outcome: StepOutcome): Record<string, number> {
  const m = outcome.folded.metrics;
  const out: Record<string, number> = {};
  for (const [type, p] of Object.entries(m.proposals)) {
    out[`propose/${type}/count`] = p.count;
    out[`propose/${type}/valid_rate`] = p.validRate;
    out[`propose/${type}/format_errors`] = p.formatErrors;
    out[`propose/${type}/added`] = p.added;
    out[`propose/${type}/duplicates`] = p.duplicates;
    out[`propose/${type}/learnability_mean`] = p.learnabilityMean;
    for (const [reason, n] of Object.entries(p.invalidReasons)) out[`propose/${type}/invalid/${reason}`] = n ?? 0;
    p.solveHistogram.forEach((n, k) => (out[`propose/${type}/solved_${k}_of_${p.solveHistogram.length - 1}`] = n));
  }
  for (const [type, s] of Object.entries(m.solves)) {
    out[`solve/${type}/solve_rate`] = s.solveRate;
    out[`solve/${type}/format_errors`] = s.formatErrors;
  }
  for (const [group, v] of Object.entries(m.rewardMean)) out[`reward/${group}`] = v;
  for (const [group, v] of Object.entries(m.advantageAbsMean)) out[`advantage_abs/${group}`] = v;
  for (const [group, v] of Object.entries(m.responseTokensMean)) out[`response_tokens/${group}`] = v;
  for (const [type, v] of Object.entries(m.bufferSizes)) out[`buffer/${type}`] = v;
  const t = outcome.train;
  if (t) {
    out["train/loss"] = t.loss;
    out["train/grad_norm"] = t.gradNorm;
    out["train/clip_fraction"] = t.clipFraction;
    out["train/approx_kl"] = t.approxKl;
    out["train/entropy"] = t.entropy;
    out["train/tokens_per_s"] = t.tokensPerSecond;
  }
  for (const [phase, ms] of Object.entries(outcome.timings)) out[`time/${phase.replace(/Ms$/, "")}_ms`] = ms;
  return Object.fromEntries(Object.entries(out).filter(([, v]) => Number.isFinite(v)));
}
