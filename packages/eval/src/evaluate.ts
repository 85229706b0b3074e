import type { Problem } from "./problem.ts";
import { buildPrompt } from "./prompt.ts";
import { summarise } from "./passk.ts";
import type { EvaluateOptions, EvaluateOutcome, ProblemResult } from "./result.ts";
import { scoreProblems } from "./score.ts";

// The one evaluation driver (eval jobs and periodic evaluation during training): prompts in
// batches to `generate`, each batch scored while the next is generated, pass@k over all.

/** ks reported by default: pass@1, and pass@n when there are several samples. */
export function defaultKs(n: number): number[] {
  return n > 1 ? [1, n] : [1];
}

export async function evaluateBenchmark(opts: EvaluateOptions): Promise<EvaluateOutcome> {
  const { def, problems, generate, executor, template, onProgress } = opts;
  const batchSize = Math.max(1, opts.batchSize ?? 64);
  const results: ProblemResult[] = new Array(problems.length);
  let done = 0;
  let correct = 0;
  onProgress?.({ done, total: problems.length, correct });
  let scoring: Promise<void> = Promise.resolve();
  let failure: { error: unknown } | undefined;
  for (let from = 0; from < problems.length; from += batchSize) {
    // A scoring failure (e.g. the sandbox went away) stops generation at the next batch.
    if (failure) throw failure.error;
    const batch: Problem[] = problems.slice(from, from + batchSize);
    const prompts = batch.map((p) => buildPrompt(def, p, template));
    const completions = await generate(prompts, def.decoding);
    if (completions.length !== batch.length) throw new Error(`generate returned ${completions.length} completion lists for ${batch.length} prompts`);
    completions.forEach((c, i) => {
      if (!Array.isArray(c) || c.length !== def.decoding.n) throw new Error(`generate returned ${Array.isArray(c) ? c.length : "no"} completions for problem ${batch[i]!.id}; expected n = ${def.decoding.n}`);
    });
    const previous = scoring;
    const start = from;
    scoring = (async () => {
      const scored = await scoreProblems(def, batch.map((p, i) => ({ problem: p, completions: completions[i]! })), executor, { template });
      await previous;
      scored.forEach((r, i) => {
        results[start + i] = r;
        correct += r.correct;
      });
      done += scored.length;
      onProgress?.({ done, total: problems.length, correct });
    })();
    scoring.catch((error: unknown) => {
      failure ??= { error };
    });
  }
  await scoring;
  return { scores: summarise(results, opts.ks ?? defaultKs(def.decoding.n)), problems: results };
}
