import { computeAdvantages, type Rollout } from "./advantages.ts";
import { cloneBuffers, type AddOutcome, type TaskBuffer, type TaskBuffers } from "./buffers.ts";
import type { RunConfig } from "./config.ts";
import type { InvalidReason } from "./judge.ts";
import { learnability, proposerReward, solveRate, solverReward } from "./rewards.ts";
import type { ProposalVerdict } from "./step.ts";
import { GROUP_KEYS, TASK_TYPES, type GroupKey, type TaskRecord, type TaskType } from "./types.ts";

// Folding a finished step into the next state: valid proposals enter their buffers, every trained
// rollout gets its reward and TRR++ advantage, and the step's metrics are summarised.
// Learnability attempts only feed the proposer reward; they are not trained on.

export interface ProposalOutcome {
  verdict: ProposalVerdict;
  /** Scores of the learnability attempts (empty for invalid proposals). */
  scores: number[];
  /** Response tokens of the proposer completion. */
  tokens: number;
}

export interface SolveOutcome {
  id: string;
  type: TaskType;
  formatOk: boolean;
  score: number;
  tokens: number;
}

export interface StepResults {
  step: number;
  proposals: ProposalOutcome[];
  solves: SolveOutcome[];
}

export interface TypeProposalMetrics {
  count: number;
  valid: number;
  validRate: number;
  formatErrors: number;
  invalidReasons: Partial<Record<InvalidReason, number>>;
  added: number;
  duplicates: number;
  droppedFull: number;
  learnabilityMean: number;
  /** histogram[k]: valid proposals whose learnability attempts solved k of n (k = 0..n). */
  solveHistogram: number[];
}

export interface TypeSolveMetrics {
  count: number;
  solveRate: number;
  formatErrors: number;
}

export interface StepMetrics {
  step: number;
  proposals: Record<TaskType, TypeProposalMetrics>;
  solves: Record<TaskType, TypeSolveMetrics>;
  rewardMean: Record<GroupKey, number>;
  advantageAbsMean: Record<GroupKey, number>;
  responseTokensMean: Record<GroupKey, number>;
  groupSizes: Record<GroupKey, number>;
  bufferSizes: Record<TaskType, number>;
}

export interface FoldedStep {
  buffers: TaskBuffers;
  rewards: Record<string, number>;
  advantages: Record<string, number>;
  metrics: StepMetrics;
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function perGroup<V>(f: (g: GroupKey) => V): Record<GroupKey, V> {
  return Object.fromEntries(GROUP_KEYS.map((g) => [g, f(g)])) as Record<GroupKey, V>;
}

function perType<V>(f: (t: TaskType) => V): Record<TaskType, V> {
  return Object.fromEntries(TASK_TYPES.map((t) => [t, f(t)])) as Record<TaskType, V>;
}

export function foldStep(buffers: TaskBuffers, results: StepResults, config: RunConfig): FoldedStep {
  const next = cloneBuffers(buffers);
  const rollouts: Rollout[] = [];
  const rewards: Record<string, number> = {};
  const n = config.azr.learnabilitySamples;

  const proposals = perType<TypeProposalMetrics>(() => ({
    count: 0,
    valid: 0,
    validRate: 0,
    formatErrors: 0,
    invalidReasons: {},
    added: 0,
    duplicates: 0,
    droppedFull: 0,
    learnabilityMean: 0,
    solveHistogram: new Array<number>(n + 1).fill(0),
  }));
  const learnabilities = perType<number[]>(() => []);

  for (const { verdict, scores, tokens } of results.proposals) {
    const m = proposals[verdict.type];
    m.count++;
    if (!verdict.formatOk) m.formatErrors++;
    const reward = proposerReward({ formatOk: verdict.formatOk, valid: verdict.valid, scores }, config.azr.rewardMode);
    rewards[verdict.id] = reward;
    rollouts.push({ id: verdict.id, group: `${verdict.type}.propose`, reward, tokens });
    if (!verdict.valid) {
      m.invalidReasons[verdict.reason] = (m.invalidReasons[verdict.reason] ?? 0) + 1;
      continue;
    }
    m.valid++;
    learnabilities[verdict.type].push(learnability(scores));
    const solved = Math.round(solveRate(scores) * n);
    if (scores.length === n && solved >= 0 && solved <= n) m.solveHistogram[solved]!++;
    // Every valid proposal enters its buffer, whatever its solve rate (valid_program_filter=all).
    const outcome: AddOutcome = (next[verdict.type] as TaskBuffer<TaskRecord>).add(verdict.task, results.step);
    if (outcome === "added") m.added++;
    else if (outcome === "duplicate") m.duplicates++;
    else m.droppedFull++;
  }
  for (const t of TASK_TYPES) {
    proposals[t].validRate = proposals[t].count === 0 ? 0 : proposals[t].valid / proposals[t].count;
    proposals[t].learnabilityMean = mean(learnabilities[t]);
  }

  const solveScores = perType<number[]>(() => []);
  const solves = perType<TypeSolveMetrics>(() => ({ count: 0, solveRate: 0, formatErrors: 0 }));
  for (const s of results.solves) {
    const reward = solverReward(s.formatOk, s.score);
    rewards[s.id] = reward;
    rollouts.push({ id: s.id, group: `${s.type}.solve`, reward, tokens: s.tokens });
    solves[s.type].count++;
    if (!s.formatOk) solves[s.type].formatErrors++;
    solveScores[s.type].push(s.score);
  }
  for (const t of TASK_TYPES) solves[t].solveRate = mean(solveScores[t]);

  const advantageMap = computeAdvantages(rollouts, config.azr.advantageStats);
  const advantages = Object.fromEntries(advantageMap);
  const byGroup = perGroup<Rollout[]>(() => []);
  for (const r of rollouts) byGroup[r.group].push(r);

  const metrics: StepMetrics = {
    step: results.step,
    proposals,
    solves,
    rewardMean: perGroup((g) => mean(byGroup[g].map((r) => r.reward))),
    advantageAbsMean: perGroup((g) => mean(byGroup[g].map((r) => Math.abs(advantageMap.get(r.id)!)))),
    responseTokensMean: perGroup((g) => mean(byGroup[g].map((r) => r.tokens))),
    groupSizes: perGroup((g) => byGroup[g].length),
    bufferSizes: perType((t) => next[t].size),
  };
  return { buffers: next, rewards, advantages, metrics };
}
