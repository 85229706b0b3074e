import {
  completeProposal,
  completeSolve,
  initialState,
  planStep,
  prepareProposal,
  prepareSolve,
  type RunConfig,
  type TaskType,
} from "@azr/azr";
import type { WorkerClient } from "@azr/worker-client";
import { bytes, type RunExec } from "./corpus.ts";

// How a policy does on a fresh run's first step: the step-1 proposer prompts (seed buffers only)
// and the step-1 solver prompts, sampled as the run samples them, judged by @azr/azr's own
// functions with the sandboxed executor.

export interface GroupTally {
  samples: number;
  /** Proposals: valid ones. Solver answers: the sum of their scores. */
  good: number;
  formatOk: number;
}

export interface StepOneMeasurement {
  propose: GroupTally & { byType: Record<TaskType, GroupTally>; reasons: Record<string, number> };
  solve: GroupTally & { byType: Record<TaskType, GroupTally> };
  /** Valid proposals / proposals. */
  validRate: number;
  /** Mean solver score. */
  solveRate: number;
  generatedTokens: number;
  generateSeconds: number;
  tokensPerSecond: number;
}

export interface MeasureOptions {
  client: WorkerClient;
  exec: RunExec;
  config: RunConfig;
  /** Samples per step-1 prompt (the run itself takes one). */
  samplesPerPrompt?: number;
  /** Generation seed, so a measurement can be repeated exactly. */
  seed?: number;
  /** Measure the solver prompts too (default true). */
  solve?: boolean;
}

const tally = (): GroupTally => ({ samples: 0, good: 0, formatOk: 0 });
const byType = (): Record<TaskType, GroupTally> => ({ abduction: tally(), deduction: tally(), induction: tally() });

function add(t: GroupTally, good: number, formatOk: boolean): void {
  t.samples++;
  t.good += good;
  if (formatOk) t.formatOk++;
}

export async function measureStepOne(o: MeasureOptions): Promise<StepOneMeasurement> {
  const { client, exec, config } = o;
  const n = o.samplesPerPrompt ?? 1;
  const state = initialState(config);
  const plan = planStep({ config, buffers: state.buffers, rng: state.rng, step: 1, countTokens: bytes });
  const gen = (prompts: string[]) =>
    client.generate(
      { prompts, n, temperature: config.sampling.temperature, topP: config.sampling.topP, topK: config.sampling.topK, maxTokens: config.sampling.maxResponseLength, seed: o.seed ?? 0, store: false, tag: "demo-measure" },
      { timeoutMs: 30 * 60_000 },
    );
  let generatedTokens = 0;
  let generateSeconds = 0;

  const propose = { ...tally(), byType: byType(), reasons: {} as Record<string, number> };
  const p = await gen(plan.propose.map((i) => i.prompt));
  generatedTokens += p.completionTokens;
  generateSeconds += p.seconds;
  await Promise.all(
    p.rollouts.map(async (r) => {
      const item = plan.propose[r.promptIndex]!;
      const prepared = prepareProposal(item, r.text, config);
      const result = prepared.stage === "run" ? await exec(prepared.request) : undefined;
      const verdict = completeProposal(prepared, result, config);
      add(propose, verdict.valid ? 1 : 0, verdict.formatOk);
      add(propose.byType[item.type], verdict.valid ? 1 : 0, verdict.formatOk);
      if (!verdict.valid) propose.reasons[verdict.reason] = (propose.reasons[verdict.reason] ?? 0) + 1;
    }),
  );

  const solve = { ...tally(), byType: byType() };
  if (o.solve !== false && plan.solve.length > 0) {
    const s = await gen(plan.solve.map((i) => i.prompt));
    generatedTokens += s.completionTokens;
    generateSeconds += s.seconds;
    await Promise.all(
      s.rollouts.map(async (r) => {
        const item = plan.solve[r.promptIndex]!;
        const prepared = prepareSolve(item.id, item.type, item.task, r.text, config);
        const result = prepared.stage === "run" ? await exec(prepared.request) : undefined;
        const score = completeSolve(prepared, result, config);
        add(solve, score, prepared.formatOk);
        add(solve.byType[item.type], score, prepared.formatOk);
      }),
    );
  }
  return {
    propose,
    solve,
    validRate: propose.samples ? propose.good / propose.samples : 0,
    solveRate: solve.samples ? solve.good / solve.samples : 0,
    generatedTokens,
    generateSeconds,
    tokensPerSecond: generateSeconds > 0 ? generatedTokens / generateSeconds : 0,
  };
}
