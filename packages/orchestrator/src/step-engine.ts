import {
  completeProposal,
  completeSolve,
  foldStep,
  planStep,
  prepareProposal,
  prepareSolve,
  solvePrompt,
  templatesOf,
  TASK_TYPES,
  type AzrState,
  type FoldedStep,
  type PreparedProposal,
  type PreparedSolve,
  type ProposalOutcome,
  type ProposalVerdict,
  type RunConfig,
  type SolveOutcome,
  type StepPlan,
  type TaskRecord,
  type TaskType,
} from "@azr/azr";
import type { ExecRequest, ExecResult } from "@azr/protocol";
import type { Completion, Policy, TrainSummary } from "./policy.ts";

// One AZR step, end to end, against a policy and an executor: plan → propose → validate →
// learnability → solve → judge → fold (rewards, TRR++ advantages, buffers) → train. All AZR
// semantics live in @azr/azr; this module only moves data between the three parties and times
// each phase. It touches no database: the caller persists what it returns.

export interface Executor {
  run(request: ExecRequest): Promise<ExecResult>;
}

export interface RolloutRecord {
  taskType: TaskType;
  role: "propose" | "solve";
  purpose: "train" | "learnability";
  prompt: string;
  response: string;
  parsed: Record<string, unknown> | null;
  valid: boolean;
  invalidReason: string | null;
  executorStatus: string | null;
  reward: number | null;
  advantage: number | null;
  promptTokens: number;
  responseTokens: number;
}

export interface StepTimings {
  planMs: number;
  generateMs: number;
  executeMs: number;
  trainMs: number;
  totalMs: number;
}

export interface StepOutcome {
  step: number;
  plan: StepPlan;
  folded: FoldedStep;
  train: TrainSummary | undefined;
  rollouts: RolloutRecord[];
  /** Tasks this step added to the buffers. */
  added: { type: TaskType; task: TaskRecord }[];
  timings: StepTimings;
  next: AzrState;
}

export interface StepEngineOptions {
  config: RunConfig;
  policy: Policy;
  executor: Executor;
  /** Learnability rollouts kept for inspection (0..1); they are never trained on. */
  learnabilitySampleRate?: number;
  /** Deterministic choice of which learnability rollouts to keep. */
  keepLearnability?: (index: number) => boolean;
}

/** Token counts are the worker's (its tokenizer is the real one); planning asks for the counts of
 * the prompts it drew, then re-plans from the same RNG state until every count is known. An
 * unknown prompt counts as too long, so the first round walks the longest resampling path and
 * the second round, with real counts, only revisits prompts the first one drew. */
async function planWithTokenizer(state: AzrState, config: RunConfig, policy: Policy, cache: Map<string, number>): Promise<StepPlan> {
  for (let round = 0; round < 8; round++) {
    const unknown = new Set<string>();
    const plan = planStep({
      config,
      buffers: state.buffers,
      rng: state.rng,
      step: state.step,
      countTokens: (text) => {
        const n = cache.get(text);
        if (n === undefined) unknown.add(text);
        return n ?? Number.POSITIVE_INFINITY;
      },
    });
    if (unknown.size === 0) return plan;
    const texts = [...unknown];
    const counts = await policy.countTokens(texts);
    texts.forEach((t, i) => cache.set(t, counts[i]!));
  }
  throw new Error("planning did not settle on token counts after 8 rounds");
}

export class StepEngine {
  private readonly tokenCache = new Map<string, number>();

  constructor(private readonly opts: StepEngineOptions) {}

  async run(state: AzrState): Promise<StepOutcome> {
    const { config, policy, executor } = this.opts;
    const t0 = Date.now();
    const timings: StepTimings = { planMs: 0, generateMs: 0, executeMs: 0, trainMs: 0, totalMs: 0 };
    const timed = async <T>(phase: "generateMs" | "executeMs" | "trainMs", f: () => Promise<T>): Promise<T> => {
      const s = Date.now();
      try {
        return await f();
      } finally {
        timings[phase] += Date.now() - s;
      }
    };
    const execAll = (requests: ExecRequest[]) => timed("executeMs", () => Promise.all(requests.map((r) => executor.run(r))));

    if (this.tokenCache.size > 50_000) this.tokenCache.clear();
    const plan = await planWithTokenizer(state, config, policy, this.tokenCache);
    timings.planMs = Date.now() - t0;
    const templates = templatesOf(config);
    const rollouts: RolloutRecord[] = [];

    // ---- propose and validate
    const proposeOut = await timed("generateMs", () =>
      policy.generate({ prompts: plan.propose.map((p) => p.prompt), n: 1, store: true, tag: "propose" }),
    );
    const proposeCompletions = proposeOut.map((c) => c[0]!);
    const prepared: PreparedProposal[] = plan.propose.map((item, i) => prepareProposal(item, proposeCompletions[i]!.text, config));
    const toRun = prepared.filter((p): p is Extract<PreparedProposal, { stage: "run" }> => p.stage === "run");
    const validation = new Map((await execAll(toRun.map((p) => p.request))).map((r) => [r.id, r]));
    const verdicts: ProposalVerdict[] = prepared.map((p) => completeProposal(p, validation.get(p.id), config));

    // ---- learnability: n solver attempts per valid proposal with the current policy
    const valid = verdicts.filter((v): v is Extract<ProposalVerdict, { valid: true }> => v.valid);
    const learnPrompts = valid.map((v) => solvePrompt(templates, v.type, v.task));
    const learnOut = await timed("generateMs", () =>
      policy.generate({ prompts: learnPrompts, n: plan.learnabilitySamples, store: false, tag: "learnability" }),
    );
    const learnPrepared: { verdict: (typeof valid)[number]; prep: PreparedSolve; completion: Completion }[] = [];
    valid.forEach((v, i) =>
      learnOut[i]!.forEach((c, j) =>
        learnPrepared.push({ verdict: v, completion: c, prep: prepareSolve(`${v.id}.learn.${j}`, v.type, v.task, c.text, config) }),
      ),
    );
    const learnResults = await this.executeSolves(learnPrepared.map((l) => l.prep), execAll);
    const scoresById = new Map<string, number[]>();
    learnPrepared.forEach((l, i) => {
      const score = completeSolve(l.prep, learnResults.get(l.prep.id), config);
      const list = scoresById.get(l.verdict.id) ?? [];
      list.push(score);
      scoresById.set(l.verdict.id, list);
      if (this.keepLearnability(i)) {
        rollouts.push(this.solveRecord(l.verdict.type, learnPrompts[valid.indexOf(l.verdict)]!, l.completion, l.prep, score, learnResults.get(l.prep.id), "learnability"));
      }
    });

    // ---- solve
    const solveOut = await timed("generateMs", () =>
      policy.generate({ prompts: plan.solve.map((s) => s.prompt), n: 1, store: true, tag: "solve" }),
    );
    const solveCompletions = solveOut.map((c) => c[0]!);
    const solvePrepared = plan.solve.map((s, i) => prepareSolve(s.id, s.type, s.task, solveCompletions[i]!.text, config));
    const solveResults = await this.executeSolves(solvePrepared, execAll);
    const solves: SolveOutcome[] = solvePrepared.map((p, i) => ({
      id: p.id,
      type: p.type,
      formatOk: p.formatOk,
      score: completeSolve(p, solveResults.get(p.id), config),
      tokens: solveCompletions[i]!.completionTokens,
    }));

    // ---- fold: rewards, advantages, buffers, metrics
    const proposals: ProposalOutcome[] = verdicts.map((v, i) => ({
      verdict: v,
      scores: scoresById.get(v.id) ?? [],
      tokens: proposeCompletions[i]!.completionTokens,
    }));
    const folded = foldStep(state.buffers, { step: plan.step, proposals, solves }, config);

    // ---- train on the six groups' rollouts
    const trainItems: { rolloutId: string; advantage: number }[] = [];
    const addTrain = (id: string, c: Completion) => {
      const advantage = folded.advantages[id];
      if (c.rolloutId && advantage !== undefined) trainItems.push({ rolloutId: c.rolloutId, advantage });
    };
    plan.propose.forEach((p, i) => addTrain(p.id, proposeCompletions[i]!));
    plan.solve.forEach((s, i) => addTrain(s.id, solveCompletions[i]!));
    const train = trainItems.length ? await timed("trainMs", () => policy.train(trainItems)) : undefined;

    plan.propose.forEach((p, i) => {
      const v = verdicts[i]!;
      const run = validation.get(p.id);
      rollouts.push({
        taskType: p.type,
        role: "propose",
        purpose: "train",
        prompt: p.prompt,
        response: proposeCompletions[i]!.text,
        parsed: v.valid ? { task: v.task } : null,
        valid: v.valid,
        invalidReason: v.valid ? null : [v.reason, v.detail].filter(Boolean).join(": "),
        executorStatus: run?.status ?? null,
        reward: folded.rewards[p.id] ?? null,
        advantage: folded.advantages[p.id] ?? null,
        promptTokens: proposeCompletions[i]!.promptTokens,
        responseTokens: proposeCompletions[i]!.completionTokens,
      });
    });
    plan.solve.forEach((s, i) => {
      const rec = this.solveRecord(s.type, s.prompt, solveCompletions[i]!, solvePrepared[i]!, solves[i]!.score, solveResults.get(s.id), "train");
      rec.reward = folded.rewards[s.id] ?? null;
      rec.advantage = folded.advantages[s.id] ?? null;
      rollouts.push(rec);
    });

    const added: StepOutcome["added"] = [];
    for (const type of TASK_TYPES) {
      for (const e of folded.buffers[type].entries()) if (e.step === plan.step) added.push({ type, task: e.task });
    }
    timings.totalMs = Date.now() - t0;
    return {
      step: plan.step,
      plan,
      folded,
      train,
      rollouts,
      added,
      timings,
      next: { step: plan.step + 1, rng: plan.rngAfter, buffers: folded.buffers },
    };
  }

  private async executeSolves(
    prepared: PreparedSolve[],
    execAll: (r: ExecRequest[]) => Promise<ExecResult[]>,
  ): Promise<Map<string, ExecResult>> {
    const requests = prepared.flatMap((p) => (p.stage === "run" ? [p.request] : []));
    return new Map((await execAll(requests)).map((r) => [r.id, r]));
  }

  private keepLearnability(index: number): boolean {
    if (this.opts.keepLearnability) return this.opts.keepLearnability(index);
    const rate = this.opts.learnabilitySampleRate ?? 0.1;
    // Every k-th attempt: deterministic, spread over the step's proposals.
    return rate > 0 && index % Math.max(1, Math.round(1 / rate)) === 0;
  }

  private solveRecord(
    type: TaskType,
    prompt: string,
    completion: Completion,
    prep: PreparedSolve,
    score: number,
    result: ExecResult | undefined,
    purpose: "train" | "learnability",
  ): RolloutRecord {
    return {
      taskType: type,
      role: "solve",
      purpose,
      prompt,
      response: completion.text,
      parsed: { score },
      valid: prep.formatOk,
      invalidReason: prep.formatOk ? null : "format",
      executorStatus: result?.status ?? null,
      reward: null,
      advantage: null,
      promptTokens: completion.promptTokens,
      responseTokens: completion.completionTokens,
    };
  }
}
