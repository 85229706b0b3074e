import { createExecutor, type ExecutorConfig, type ExecutorPool } from "@azr/executor";
import type { BenchmarkDefinition, TemplateStyle } from "./definition.ts";
import type { Problem } from "./problem.ts";
import type { ProblemResult } from "./result.ts";
import { scoreCode, type CodeScoreOptions } from "./score-code.ts";
import { scoreIo } from "./score-io.ts";
import { scoreMath } from "./score-math.ts";

// One entry point for all three scorers. Scoring many problems at once (scoreProblems) lets the
// math scorer put every problem's symbolic checks into a few sandbox jobs.

export interface ScoreOptions extends CodeScoreOptions {
  /** The template the completions answered (io judging reads `azr` answers from their tags). */
  template?: TemplateStyle;
}

export interface ScoreItem {
  problem: Problem;
  completions: readonly string[];
}

function ofKind<K extends Problem["kind"]>(def: BenchmarkDefinition, items: readonly ScoreItem[], kind: K) {
  for (const it of items) {
    if (it.problem.kind !== kind) throw new Error(`problem ${it.problem.id} is ${it.problem.kind}, benchmark ${def.name} is ${kind}`);
  }
  return items as readonly { problem: Extract<Problem, { kind: K }>; completions: readonly string[] }[];
}

/** Scores many problems' completions; results in input order. */
export async function scoreProblems(def: BenchmarkDefinition, items: readonly ScoreItem[], executor: ExecutorPool, opts: ScoreOptions = {}): Promise<ProblemResult[]> {
  switch (def.kind) {
    case "code":
      return scoreCode(def, ofKind(def, items, "code"), executor, opts);
    case "math":
      return scoreMath(def, ofKind(def, items, "math"), executor);
    case "io":
      return scoreIo(def, ofKind(def, items, "io"), executor, opts.template ?? "azr");
  }
}

/** Scores one problem's completions (one verdict per completion). */
export async function scoreProblem(def: BenchmarkDefinition, problem: Problem, completions: readonly string[], executor: ExecutorPool, opts: ScoreOptions = {}): Promise<ProblemResult> {
  const [r] = await scoreProblems(def, [{ problem, completions }], executor, opts);
  return r!;
}

/** An executor pool fit for scoring `def`: math benchmarks get sympy preloaded in the sandbox
 * (executor `systemModules`); code and io benchmarks an ordinary pool, like training's. */
export function createEvalExecutor(def: Pick<BenchmarkDefinition, "kind">, config: ExecutorConfig = {}): Promise<ExecutorPool> {
  return createExecutor(def.kind === "math" ? { ...config, systemModules: ["sympy"] } : config);
}
