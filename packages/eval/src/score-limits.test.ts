import { afterAll, describe, expect, it } from "vitest";
import { resolveBenchmark } from "./definition.ts";
import type { CodeProblem, MathProblem } from "./problem.ts";
import { scoreProblems } from "./score.ts";
import { testSandbox } from "./testing/sandbox.ts";

// Answers that attack the time limits: the per-check / per-test timer ends them without costing
// the other answers in the same job their verdicts, and code that swallows the timer meets the
// job's own limit.

const code = await testSandbox(3);
const math = await testSandbox(4, { sympy: true, runners: 1 });
afterAll(async () => {
  await code.pool?.close();
  await math.pool?.close();
});
const answer = (body: string) => `ok</think>\n<answer>\n${body}\n</answer>`;

describe.skipIf(!code.pool || !math.pool)(`time limits${code.pool && math.pool ? "" : ` (no sandbox: ${code.unavailable || math.unavailable})`}`, () => {
  it("a sympy check past its time limit is not equal, and the checks beside it are still decided", async () => {
    const def = resolveBenchmark("fixture-math", { limits: { timeoutMs: 1000 } });
    const problem = (id: string, answer: string): MathProblem => ({ kind: "math", id, problem: id, answer });
    const items = [
      { problem: problem("a", "x+1"), completions: [answer("\\boxed{1+x}")] },
      // 9^(9^9) has 370 million digits.
      { problem: problem("b", "x+2"), completions: [answer("\\boxed{9^{9^{9}}+x}")] },
      { problem: problem("c", "2x"), completions: [answer("\\boxed{x+x}")] },
    ];
    const started = Date.now();
    const r = await scoreProblems(def, items, math.pool!);
    expect(r.map((p) => [p.problemId, p.samples[0]!.correct, p.samples[0]!.detail.split(":")[0]])).toEqual([
      ["a", true, "symbolic (sympy)"],
      ["b", false, "symbolic (sympy"],
      ["c", true, "symbolic (sympy)"],
    ]);
    expect(r[1]!.samples[0]!.detail).toMatch(/time limit/);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("a benchmark whose canonical solution does not load fails its samples with the reason, not a crash", async () => {
    const def = resolveBenchmark("fixture-humaneval-plus");
    const problem: CodeProblem = {
      kind: "code",
      id: "broken",
      prompt: "def f(x):\n",
      entryPoint: "f",
      tests: { format: "evalplus", dataset: "humaneval", canonicalSolution: "def f(x)\n    return x\n", base: ["1"], plus: [], atol: 0 },
      timeLimitMs: 500,
    };
    const [r] = await scoreProblems(def, [{ problem, completions: [answer("```python\ndef f(x):\n    return x\n```")] }], code.pool!);
    expect(r!.samples[0]).toMatchObject({ correct: false, status: "sandbox-failure", detail: expect.stringContaining("canonical solution does not load: SyntaxError") });
  });

  it("code that swallows the per-test timer still fails on the job's limit; later problems are unaffected", async () => {
    const def = resolveBenchmark("fixture-humaneval-plus");
    const problem: CodeProblem = {
      kind: "code",
      id: "t",
      prompt: "def f(x):\n",
      entryPoint: "f",
      tests: { format: "evalplus", dataset: "humaneval", canonicalSolution: "def f(x):\n    return x + 1\n", base: ["1", "2"], plus: ["3"], atol: 0 },
      timeLimitMs: 500,
    };
    const stubborn = "```python\ndef f(x):\n    while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            pass\n```";
    const r = await scoreProblems(def, [{ problem, completions: [answer(stubborn), answer("```python\ndef f(x):\n    return x + 1\n```")] }], code.pool!);
    expect(r[0]!.samples.map((s) => [s.correct, s.status])).toEqual([
      [false, "timeout"],
      [true, "pass"],
    ]);
  });
});
