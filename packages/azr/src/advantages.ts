import type { GroupKey } from "./types.ts";

// Task-Relative REINFORCE++ (azr-spec §5): rewards are normalised within each (task type × role)
// group separately. The outcome reward sits on the last token and gamma = 1, so every response
// token carries r; whitening therefore gives one advantage per sequence.
// - `sequence` (paper): mean and variance over the sequences of the group.
// - `token` (reference code): token-weighted mean and variance over all response tokens.
// Both use the code's Bessel correction and sqrt(var + 1e-8). An empty group, a group of one,
// or a group whose rewards are all equal gets zeros, never NaN.

export type AdvantageStats = "sequence" | "token";
export const WHITEN_EPS = 1e-8;

export interface Scored {
  reward: number;
  /** Response tokens (only used by `token` statistics). */
  tokens: number;
}

export function groupAdvantages(samples: readonly Scored[], stats: AdvantageStats): number[] {
  const n = samples.length;
  const zeros = () => new Array<number>(n).fill(0);
  if (n === 0) return [];
  const first = samples[0]!.reward;
  if (samples.every((s) => s.reward === first)) return zeros();
  let weightSum = 0;
  let mean = 0;
  for (const s of samples) {
    const w = stats === "sequence" ? 1 : s.tokens;
    weightSum += w;
    mean += w * s.reward;
  }
  if (weightSum <= 1) return zeros();
  mean /= weightSum;
  let ss = 0;
  for (const s of samples) {
    const w = stats === "sequence" ? 1 : s.tokens;
    ss += w * (s.reward - mean) ** 2;
  }
  const variance = ss / (weightSum - 1);
  const scale = Math.sqrt(variance + WHITEN_EPS);
  return samples.map((s) => (stats === "token" && s.tokens <= 0 ? 0 : (s.reward - mean) / scale));
}

export interface Rollout extends Scored {
  id: string;
  group: GroupKey;
}

/** Advantages for the trained rollouts of a step, normalised per group. */
export function computeAdvantages(rollouts: readonly Rollout[], stats: AdvantageStats): Map<string, number> {
  const groups = new Map<GroupKey, Rollout[]>();
  for (const r of rollouts) {
    const g = groups.get(r.group);
    if (g) g.push(r);
    else groups.set(r.group, [r]);
  }
  const out = new Map<string, number>();
  for (const members of groups.values()) {
    const adv = groupAdvantages(members, stats);
    members.forEach((m, i) => out.set(m.id, adv[i]!));
  }
  return out;
}
