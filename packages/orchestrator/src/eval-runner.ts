import { buildPrompt, evaluateBenchmark, loadProblems, type BenchmarkDefinition, type Decoding, type EvaluateOptions, type TemplateStyle } from "@azr/eval";
import type { StoredProblem } from "./eval-store.ts";
import type { Policy } from "./policy.ts";

/** A sandbox pool scoring runs in. */
export type EvalExecutor = EvaluateOptions["executor"];

/** Which pool scores a benchmark. Code and io programs run in the pool the orchestrator runs
 * training's programs in; math needs sympy preloaded in the sandbox, which only a separate
 * scoring pool has (packages/executor: training pools never see sympy). */
export type EvalExecutors = (def: BenchmarkDefinition) => Promise<EvalExecutor>;

/** Training's pool for code and io, the scoring pool (made on first use) for math. */
export function evalExecutors(training: EvalExecutor, scoring: () => Promise<EvalExecutor>): EvalExecutors {
  return async (def) => (def.kind === "math" ? scoring() : training);
}

// One benchmark on one policy: load the problems, let @azr/eval's driver build the prompts, ask
// the policy for answers (with the benchmark's decoding: greedy by default), score them in the
// sandbox, and return the scores with the per-problem results in the shape the database keeps.
// Used by eval jobs (their own worker) and by periodic evaluation (the run's worker).

export class EvalAborted extends Error {
  override name = "EvalAborted";
  constructor() {
    super("the evaluation was cancelled");
  }
}

export interface EvalOnPolicyOptions {
  def: BenchmarkDefinition;
  /** `azr`: the reference's think/answer template (trained checkpoints); `base`: the boxed /
   * fenced template for base models. */
  template: TemplateStyle;
  policy: Policy;
  executors: EvalExecutors;
  /** Labels the generations on the worker. */
  tag: string;
  signal?: AbortSignal;
  /** Called once the problems are known (total) and as they are scored. */
  onProgress?: (done: number, total: number) => void;
}

export interface EvalOnPolicyResult {
  scores: Record<string, number>;
  problems: StoredProblem[];
}

export async function evaluateOnPolicy(o: EvalOnPolicyOptions): Promise<EvalOnPolicyResult> {
  const { def, signal } = o;
  const check = () => {
    if (signal?.aborted) throw new EvalAborted();
  };
  const problems = await loadProblems(def);
  const executor = await o.executors(def);
  check();
  const total = problems.length;
  o.onProgress?.(0, total);
  const generate = async (prompts: string[], decoding: Decoding): Promise<string[][]> => {
    check();
    const out = await o.policy.generate({
      prompts,
      n: decoding.n,
      store: false,
      tag: o.tag,
      decoding: { temperature: decoding.temperature, topP: decoding.topP, maxTokens: decoding.maxTokens },
    });
    check();
    return out.map((samples) => samples.map((c) => c.text));
  };
  const result = await evaluateBenchmark({
    def,
    problems,
    generate,
    executor,
    template: o.template,
    onProgress: (p) => o.onProgress?.(p.done, p.total),
  });
  check();
  const byId = new Map(problems.map((p, index) => [p.id, { problem: p, index }]));
  return {
    scores: { ...result.scores },
    problems: result.problems.map((r) => {
      const known = byId.get(r.problemId);
      if (!known) throw new Error(`the evaluation driver returned a result for unknown problem ${r.problemId}`);
      return {
        problemId: r.problemId,
        index: known.index,
        prompt: buildPrompt(def, known.problem, o.template),
        correct: r.correct,
        n: r.n,
        samples: r.samples.map((s) => ({
          completion: s.completion,
          extracted: s.extracted ?? null,
          correct: s.correct,
          status: s.status,
          detail: s.detail ?? null,
        })),
      };
    }),
  };
}
