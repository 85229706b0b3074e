import { afterAll, describe, expect, it } from "vitest";
import { resolveBenchmark } from "./definition.ts";
import { evaluateBenchmark } from "./evaluate.ts";
import { loadProblems } from "./loaders/index.ts";
import type { CodeProblem, IoProblem, Problem } from "./problem.ts";
import type { EvaluateProgress } from "./result.ts";
import { recordedPolicy } from "./testing/recorded-policy.ts";
import { testSandbox } from "./testing/sandbox.ts";

const sandbox = await testSandbox(2);
afterAll(async () => {
  await sandbox.pool?.close();
});

const answer = (body: string) => `Reasoning.</think>\n<answer>\n${body}\n</answer>`;

describe.skipIf(!sandbox.pool)(`evaluateBenchmark${sandbox.pool ? "" : ` (no sandbox: ${sandbox.unavailable})`}`, () => {
  it("drives generation in batches, scores each sample, and reports pass@1 / pass@n and progress", async () => {
    const def = resolveBenchmark("fixture-cruxeval-o", { decoding: { n: 2 } });
    const problems = await loadProblems(def);
    const wrong = answer("```output\n'no'\n```");
    const right = (p: Problem) => answer("```output\n" + (p as IoProblem).output + "\n```");
    const policy = recordedPolicy(def, problems, "azr", (p) => (p.id === "sample_0" ? [right(p), right(p)] : p.id === "sample_1" ? [wrong, right(p)] : [wrong, wrong]));
    const progress: EvaluateProgress[] = [];
    const out = await evaluateBenchmark({ def, problems, generate: policy.generate, executor: sandbox.pool!, template: "azr", batchSize: 3, onProgress: (p) => progress.push({ ...p }) });
    expect(policy.calls).toEqual([3, 3, 2]);
    expect(out.problems.map((r) => `${r.problemId}:${r.correct}/${r.n}`)).toEqual(["sample_0:2/2", "sample_1:1/2", ...problems.slice(2).map((p) => `${p.id}:0/2`)]);
    // pass@1 = mean(c/n) = (1 + 0.5) / 8; pass@2 = (1 + 1) / 8
    expect(out.scores["pass@1"]).toBeCloseTo(1.5 / 8, 12);
    expect(out.scores["pass@2"]).toBeCloseTo(2 / 8, 12);
    expect(out.scores).toMatchObject({ solved: 2, total: 8, accuracy: 3 / 16 });
    expect(progress[0]).toEqual({ done: 0, total: 8, correct: 0 });
    expect(progress.at(-1)).toEqual({ done: 8, total: 8, correct: 3 });
    expect(progress.map((p) => p.done)).toEqual([0, 3, 6, 8]);
  });

  it("scores each benchmark's own canonical solutions as all correct (EvalPlus fixtures, greedy)", async () => {
    for (const name of ["fixture-humaneval-plus", "fixture-mbpp-plus"]) {
      const def = resolveBenchmark(name);
      const problems = (await loadProblems(def)) as CodeProblem[];
      const policy = recordedPolicy(def, problems, "base", (p) => {
        const t = (p as CodeProblem).tests;
        const canonical = t.format === "evalplus" ? t.canonicalSolution : `${(p as CodeProblem).prompt}    return x + y\n`;
        return ["```python\n" + canonical + "\n```"];
      });
      const out = await evaluateBenchmark({ def, problems, generate: policy.generate, executor: sandbox.pool!, template: "base" });
      expect(out.problems.filter((r) => r.correct !== 1).map((r) => `${r.problemId}: ${r.samples[0]!.detail}`), name).toEqual([]);
      expect(out.scores["pass@1"]).toBe(1);
    }
  });

  it("refuses a generate() that returns the wrong number of completions", async () => {
    const def = resolveBenchmark("fixture-cruxeval-o");
    const problems = await loadProblems(def);
    const bad = async (prompts: string[]) => prompts.map(() => ["a", "b"]);
    await expect(evaluateBenchmark({ def, problems, generate: bad, executor: sandbox.pool!, template: "azr" })).rejects.toThrow(/expected n = 1/);
  });
});
