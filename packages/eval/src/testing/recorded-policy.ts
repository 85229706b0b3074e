import type { BenchmarkDefinition, Decoding, TemplateStyle } from "../definition.ts";
import type { Problem } from "../problem.ts";
import { buildPrompt } from "../prompt.ts";

/**
 * A test double for the model behind evaluateBenchmark's `generate`: it answers each prompt with
 * completions recorded per problem id (no model runs in the test suite). Unknown prompts are an
 * error, so a test cannot pass on prompts it never meant to send.
 */
export function recordedPolicy(
  def: BenchmarkDefinition,
  problems: readonly Problem[],
  template: TemplateStyle,
  answers: (problem: Problem) => string[],
): { generate: (prompts: string[], decoding: Decoding) => Promise<string[][]>; calls: number[] } {
  const byPrompt = new Map(problems.map((p) => [buildPrompt(def, p, template), p]));
  const calls: number[] = [];
  return {
    calls,
    async generate(prompts) {
      calls.push(prompts.length);
      return prompts.map((prompt) => {
        const p = byPrompt.get(prompt);
        if (!p) throw new Error(`recordedPolicy: unexpected prompt ${prompt.slice(0, 80)}`);
        return answers(p);
      });
    },
  };
}
