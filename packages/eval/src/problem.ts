import type { PyValue } from "@azr/protocol";

// One benchmark problem, as the loaders produce it and the scorers consume it. Plain JSON data,
// so a caller may store problems alongside results. Gold values (expected outputs, the check
// program's assertions aside) stay on this side: only programs and inputs go to the sandbox.

/** EvalPlus (HumanEval+ / MBPP+): argument lists as Python source; the expected outputs are the
 * canonical solution's, computed in the sandbox (as EvalPlus computes its ground truth). */
export interface EvalPlusTests {
  format: "evalplus";
  /** `humaneval` or `mbpp`: selects EvalPlus's special oracles and MBPP+ input types. */
  dataset: "humaneval" | "mbpp";
  /** The reference implementation (`prompt + canonical_solution`, as EvalPlus runs it). */
  canonicalSolution: string;
  base: string[];
  plus: string[];
  atol: number;
}

/** A HumanEval-style `check(candidate)` program, for files without EvalPlus inputs. Its
 * assertions run in the same sandboxed process as the candidate. */
export interface CheckProgramTests {
  format: "check";
  program: string;
}

export interface StdioCase {
  input: string;
  output: string;
  public: boolean;
}

/** LiveCodeBench stdin/stdout problems (AtCoder, Codeforces). */
export interface StdioTests {
  format: "stdio";
  cases: StdioCase[];
}

export interface FunctionalCase {
  /** Argument list as Python source (each line of the case's input is one JSON argument). */
  args: string;
  /** The JSON output, as a value. */
  output: PyValue;
  public: boolean;
}

/** LiveCodeBench functional problems (LeetCode: `class Solution` with method `fnName`). */
export interface FunctionalTests {
  format: "functional";
  fnName: string;
  cases: FunctionalCase[];
}

export type CodeTests = EvalPlusTests | CheckProgramTests | StdioTests | FunctionalTests;

export interface CodeProblem {
  kind: "code";
  id: string;
  /** What the model is asked: EvalPlus's signature + docstring, LiveCodeBench's statement. */
  prompt: string;
  /** The function the tests call (undefined for stdin/stdout programs). */
  entryPoint: string | undefined;
  /** LiveCodeBench starter code (functional problems). */
  starterCode?: string;
  tests: CodeTests;
  /** Per test case. */
  timeLimitMs: number;
  title?: string;
  /** LiveCodeBench contest date (ISO). */
  date?: string;
}

export interface MathProblem {
  kind: "math";
  id: string;
  problem: string;
  /** The reference answer as written in the file (LaTeX or plain). */
  answer: string;
}

export interface IoProblem {
  kind: "io";
  id: string;
  /** A program defining `f`. */
  code: string;
  /** `f`'s argument list as Python literals, e.g. `'abc', [1, 2]`. */
  input: string;
  /** The repr of `f(input)`. */
  output: string;
  /** Which side the model predicts. */
  mode: "input" | "output";
}

export type Problem = CodeProblem | MathProblem | IoProblem;
export type ProblemOf<K extends Problem["kind"]> = Extract<Problem, { kind: K }>;
