import { afterAll, describe, expect, it } from "vitest";
import { resolveBenchmark } from "./definition.ts";
import { loadProblems } from "./loaders/index.ts";
import { scoreProblems } from "./score.ts";
import { recordedAnswers } from "./testing/recorded-answers.ts";
import { testSandbox } from "./testing/sandbox.ts";

// Every scorer on the shipped fixtures against recorded answers whose verdicts were checked by
// hand (fixtures/answers/*.jsonl, each with its reason), run in the real bubblewrap sandbox.

const code = await testSandbox(0);
const math = await testSandbox(1, { sympy: true, runners: 1 });
afterAll(async () => {
  await code.pool?.close();
  await math.pool?.close();
});

const CASES = [
  ["fixture-humaneval-plus", "humaneval-plus.jsonl", code],
  ["fixture-mbpp-plus", "mbpp-plus.jsonl", code],
  ["fixture-livecodebench", "livecodebench.jsonl", code],
  ["fixture-math", "math.jsonl", math],
  ["fixture-cruxeval-o", "cruxeval-o.jsonl", code],
  ["fixture-cruxeval-i", "cruxeval-i.jsonl", code],
] as const;

describe.skipIf(!code.pool || !math.pool)(`scorers on the fixtures${code.pool && math.pool ? "" : ` (no sandbox: ${code.unavailable || math.unavailable})`}`, () => {
  for (const [name, file, sandbox] of CASES) {
    it(`${name}: every recorded answer gets its hand-checked verdict`, async () => {
      const def = resolveBenchmark(name);
      const problems = await loadProblems(def);
      const answers = recordedAnswers(file);
      const got: string[] = [];
      const want: string[] = [];
      const details: string[] = [];
      for (const template of ["azr", "base"] as const) {
        const mine = answers.filter((a) => a.template === template);
        const items = mine.map((a) => {
          const problem = problems.find((p) => p.id === a.problemId);
          if (!problem) throw new Error(`${file}: no problem ${a.problemId}`);
          return { problem, completions: [a.completion] };
        });
        const results = await scoreProblems(def, items, sandbox.pool!, { template });
        results.forEach((r, i) => {
          const a = mine[i]!;
          const s = r.samples[0]!;
          got.push(`${a.problemId} [${a.why}]: ${s.correct ? "correct" : "not correct"} ${s.status}`);
          details.push(`${a.problemId}: ${s.status}: ${s.detail.slice(0, 200)}`);
          want.push(`${a.problemId} [${a.why}]: ${a.correct ? "correct" : "not correct"} ${a.status}`);
        });
      }
      // The scorer's details are shown when a verdict differs.
      expect(got, details.join("\n")).toEqual(want);
    });
  }
});
