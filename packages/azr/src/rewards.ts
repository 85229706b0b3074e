// Rewards (azr-spec §3 and the §9 `rewardMode` switch). Every value is the scalar placed on the
// last response token.

export type RewardMode = "paper" | "reference";

export const FORMAT_PENALTY = -1;
export const WRONG_PENALTY = -0.5;

export function solveRate(scores: readonly number[]): number {
  if (scores.length === 0) return 0;
  let sum = 0;
  for (const s of scores) sum += s;
  return sum / scores.length;
}

/** Learnability: 1 − s for 0 < s < 1; 0 when every attempt failed or every attempt succeeded. */
export function learnability(scores: readonly number[]): number {
  const s = solveRate(scores);
  return s > 0 && s < 1 ? 1 - s : 0;
}

export interface ProposalRewardInput {
  formatOk: boolean;
  valid: boolean;
  /** Solver scores of the n learnability attempts (valid proposals only). */
  scores: readonly number[];
}

/** Bad format or invalid proposal: −1. Valid: the learnability; when that is 0 (trivial or
 * impossible task) the paper gives 0 and the reference code −0.5. */
export function proposerReward(p: ProposalRewardInput, mode: RewardMode): number {
  if (!p.formatOk || !p.valid) return FORMAT_PENALTY;
  const r = learnability(p.scores);
  if (r > 0) return r;
  return mode === "paper" ? 0 : WRONG_PENALTY;
}

/** Bad format: −1; a correct (or partly correct, in accuracy mode) answer: its score; a wrong
 * but well-formed answer: −0.5. The same in both reward modes. */
export function solverReward(formatOk: boolean, score: number): number {
  if (!formatOk) return FORMAT_PENALTY;
  return score > 0 ? score : WRONG_PENALTY;
}
