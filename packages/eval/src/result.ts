import type { ExecutorPool } from "@azr/executor";
import type { BenchmarkDefinition, Decoding, TemplateStyle } from "./definition.ts";
import type { Problem } from "./problem.ts";

// What scoring produces: a verdict per sample with the reason, and per-problem counts that
// pass@k is computed from. Plain JSON, so callers store it as it is.

export const SAMPLE_STATUSES = [
  "pass",
  /** Ran (or was compared) and gave the wrong result. */
  "wrong-answer",
  /** Nothing to grade: no answer tag / \boxed{} (math, io) or no code block (code). */
  "format",
  "syntax",
  "runtime-error",
  "timeout",
  "memory",
  "output-limit",
  /** The sandbox failed, not the answer; counted as not correct and reported. */
  "sandbox-failure",
] as const;
export type SampleStatus = (typeof SAMPLE_STATUSES)[number];

export interface SampleResult {
  completion: string;
  /** What was graded: the program, the final answer, the predicted input/output; null if none. */
  extracted: string | null;
  correct: boolean;
  status: SampleStatus;
  /** Why, for people: the failing test, the normalised answers compared, the error. */
  detail: string;
}

export interface ProblemResult {
  problemId: string;
  samples: SampleResult[];
  /** Correct samples. */
  correct: number;
  /** Samples. */
  n: number;
}

/** `pass@k` for each k every problem has enough samples for, plus accuracy (correct samples /
 * samples), solved (problems with at least one correct sample) and total (problems). */
export type Scores = { [key: `pass@${number}`]: number } & { accuracy: number; solved: number; total: number };

export interface EvaluateProgress {
  done: number;
  total: number;
  /** Correct samples so far. */
  correct: number;
}

export interface EvaluateOptions {
  def: BenchmarkDefinition;
  problems: readonly Problem[];
  /** One list of `decoding.n` completions per prompt, in prompt order (the worker, or a recorded
   * policy in tests). */
  generate: (prompts: string[], decoding: Decoding) => Promise<string[][]>;
  executor: ExecutorPool;
  template: TemplateStyle;
  /** pass@k values to report (default [1] and n when n > 1). */
  ks?: readonly number[];
  onProgress?: (p: EvaluateProgress) => void;
  /** Prompts per generate() call (default 64). */
  batchSize?: number;
}

export interface EvaluateOutcome {
  scores: Scores;
  problems: ProblemResult[];
}
