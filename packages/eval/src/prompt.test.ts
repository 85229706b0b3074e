import { resolveTemplates, solvePrompt } from "@azr/azr";
import { describe, expect, it } from "vitest";
import { resolveBenchmark } from "./definition.ts";
import { loadProblems } from "./loaders/index.ts";
import type { IoProblem } from "./problem.ts";
import { buildPrompt } from "./prompt.ts";

describe("buildPrompt", () => {
  it("gives trained models the training think/answer template and base models a boxed / fenced one", async () => {
    const math = resolveBenchmark("fixture-math");
    const [p] = await loadProblems(math);
    const azr = buildPrompt(math, p!, "azr");
    expect(azr).toMatch(/<think> reasoning <\/think> <answer> result <\/answer>/);
    expect(azr.endsWith("Assistant: <think>")).toBe(true);
    expect(azr).toContain("\\boxed{}");
    const base = buildPrompt(math, p!, "base");
    expect(base.startsWith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n")).toBe(true);
    expect(base.endsWith("within \\boxed{}.<|im_end|>\n<|im_start|>assistant\n")).toBe(true);
  });

  it("asks io questions with AZR's own deduction / abduction solver prompts", async () => {
    for (const [name, type] of [["fixture-cruxeval-o", "deduction"], ["fixture-cruxeval-i", "abduction"]] as const) {
      const def = resolveBenchmark(name);
      const p = (await loadProblems(def))[1] as IoProblem;
      const task = { kind: "triplet" as const, snippet: p.code, input: p.input, output: p.output, imports: [] };
      expect(buildPrompt(def, p, "azr")).toBe(solvePrompt(resolveTemplates("azr-v1"), type, task));
      expect(buildPrompt(def, p, "base")).not.toContain("<think>");
    }
  });

  it("shows code problems their signature or starter code, and says how stdin problems are run", async () => {
    const he = resolveBenchmark("fixture-humaneval-plus");
    const [p] = await loadProblems(he);
    expect(buildPrompt(he, p!, "base")).toContain("def has_close_pair(numbers: List[float], threshold: float) -> bool:");
    const lcb = resolveBenchmark("fixture-livecodebench");
    const problems = await loadProblems(lcb);
    expect(buildPrompt(lcb, problems.find((x) => x.id === "3217")!, "azr")).toContain("class Solution:\n    def maxProfit");
    expect(buildPrompt(lcb, problems.find((x) => x.id === "abc371_a")!, "azr")).toContain("read the inputs from stdin");
    const mathProblem = (await loadProblems(resolveBenchmark("fixture-math")))[0]!;
    expect(() => buildPrompt(lcb, mathProblem, "azr")).toThrow(/is math/);
  });
});
