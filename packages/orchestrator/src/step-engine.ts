import {
  planStep,
  runSeeding,
  runStep,
  TASK_TYPES,
  type AzrState,
  type RngState,
  type SeedingResult,
  type SeedingRound,
  type TokenCounting,
  type FoldedStep,
  type GenerateRequest,
  type Generation,
  type RunConfig,
  type StepIO,
  type StepPlan,
  type StepSample,
  type TaskRecord,
  type TaskType,
} from "@azr/azr";
import type { ExecRequest, ExecResult, RunRequest } from "@azr/protocol";
import type { Completion, Policy, TrainSummary } from "./policy.ts";
import { workerTokenCounting } from "./token-counts.ts";

// One AZR step against a real policy and executor: plan (with the worker's token counts), then
// @azr/azr's runStep (propose → validate → learnability → solve → judge → fold), then train.
// All AZR semantics live in @azr/azr; this module connects the parties, times each phase and
// keeps the rollouts the control plane records. It touches no database.

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

export interface SeedingOutcome {
  result: SeedingResult;
  timings: { generateMs: number; executeMs: number; totalMs: number };
}

export class StepEngine {
  /** One token-count cache for the steps and the seeding stage (token-counts.ts). */
  private readonly tokens: TokenCounting;

  constructor(private readonly opts: StepEngineOptions) {
    this.tokens = workerTokenCounting(opts.policy);
  }

  /** The seeding stage (azr-spec §4) through @azr/azr's `runSeeding`, with this policy and
   * executor. Nothing it generates is kept for training. */
  async seed(rng: RngState, onRound?: (round: SeedingRound) => void | Promise<void>): Promise<SeedingOutcome> {
    const { config, policy, executor } = this.opts;
    const t0 = Date.now();
    const timings = { generateMs: 0, executeMs: 0, totalMs: 0 };
    const io: StepIO = {
      generate: async (requests) => {
        const s = Date.now();
        const got = await policy.generate({ prompts: requests.map((r) => r.prompt), n: 1, store: false, tag: "seeding" });
        timings.generateMs += Date.now() - s;
        return got.map((c) => ({ text: c[0]!.text, tokens: c[0]!.completionTokens }));
      },
      execute: async (requests) => {
        const s = Date.now();
        const results = await Promise.all(requests.map((r) => executor.run(r)));
        timings.executeMs += Date.now() - s;
        return results;
      },
    };
    const result = await runSeeding(config, io, this.tokens, rng, { maxRounds: config.azr.seedMaxRounds, onRound });
    timings.totalMs = Date.now() - t0;
    return { result, timings };
  }

  /** Runs the step through @azr/azr's `runStep` (which owns the step's semantics) with this
   * policy and executor behind its StepIO, and keeps what the control plane records. */
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

    const plan = await this.tokens((countTokens) => planStep({ config, buffers: state.buffers, rng: state.rng, step: state.step, countTokens }));
    timings.planMs = Date.now() - t0;

    const completions = new Map<string, Completion>();
    const execStatus = new Map<string, string>();
    const io: StepIO = {
      generate: async (requests: GenerateRequest[]) => {
        // Trained rollouts stay on the worker for `train`; learnability attempts are not stored.
        const out: Generation[] = new Array(requests.length);
        for (const store of [true, false]) {
          const idx = requests.flatMap((r, i) => (r.trained === store ? [i] : []));
          if (!idx.length) continue;
          const got = await timed("generateMs", () =>
            policy.generate({ prompts: idx.map((i) => requests[i]!.prompt), n: 1, store, tag: store ? "train" : "learnability" }),
          );
          idx.forEach((i, k) => {
            const c = got[k]![0]!;
            completions.set(requests[i]!.id, c);
            out[i] = { text: c.text, tokens: c.completionTokens };
          });
        }
        return out;
      },
      execute: async (requests: RunRequest[]) => {
        const results = await timed("executeMs", () => Promise.all(requests.map((r) => executor.run(r))));
        results.forEach((r) => execStatus.set(r.id, r.status));
        return results;
      },
    };
    const out = await runStep(state, config, io, () => {
      throw new Error("token counts come from the precomputed plan");
    }, plan);

    const trainItems = out.samples.flatMap((s) => {
      const rolloutId = completions.get(s.id)?.rolloutId;
      return rolloutId ? [{ rolloutId, advantage: s.advantage }] : [];
    });
    const train = trainItems.length ? await timed("trainMs", () => policy.train(trainItems)) : undefined;

    const record = (s: StepSample, purpose: "train" | "learnability"): RolloutRecord => {
      const c = completions.get(s.id);
      const v = s.verdict;
      return {
        taskType: s.type,
        role: s.role,
        purpose,
        prompt: s.prompt,
        response: s.completion,
        parsed: v ? (v.valid ? { task: v.task } : null) : { score: s.score ?? 0 },
        valid: v ? v.valid : s.score !== undefined,
        invalidReason: v && !v.valid ? [v.reason, v.detail].filter(Boolean).join(": ") : null,
        executorStatus: execStatus.get(s.id) ?? null,
        reward: purpose === "train" ? s.reward : null,
        advantage: purpose === "train" ? s.advantage : null,
        promptTokens: c?.promptTokens ?? 0,
        responseTokens: s.tokens,
      };
    };
    const rollouts = [
      ...out.samples.map((s) => record(s, "train")),
      ...out.attempts.filter((_, i) => this.keepLearnability(i)).map((s) => record(s, "learnability")),
    ];

    const added: StepOutcome["added"] = [];
    for (const type of TASK_TYPES) {
      for (const e of out.folded.buffers[type].entries()) if (e.step === plan.step) added.push({ type, task: e.task });
    }
    timings.totalMs = Date.now() - t0;
    return { step: plan.step, plan, folded: out.folded, train, rollouts, added, timings, next: out.next };
  }

  private keepLearnability(index: number): boolean {
    if (this.opts.keepLearnability) return this.opts.keepLearnability(index);
    const rate = this.opts.learnabilitySampleRate ?? 0.1;
    // Every k-th attempt: deterministic, spread over the step's proposals.
    return rate > 0 && index % Math.max(1, Math.round(1 / rate)) === 0;
  }
}
