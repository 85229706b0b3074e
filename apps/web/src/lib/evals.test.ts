import { describe, expect, it } from "vitest";
import { groupKeys } from "./metrics.ts";
import { anyActive, extraPassKeys, headlineScore, latestScores, latestScoresByRun, outcomeOf, scoreLines, type EvalRow } from "./evals.ts";

const row = (over: Partial<EvalRow>): EvalRow => ({
  id: "e",
  benchmark: "humaneval-plus",
  status: "completed",
  step: 10,
  scores: { "pass@1": 0.5, accuracy: 0.5, solved: 1, total: 2 },
  finishedAt: "2026-01-01T00:00:00.000Z",
  createdAt: "2026-01-01T00:00:00.000Z",
  ...over,
});

describe("evaluation views", () => {
  it("takes pass@1 as the headline score, accuracy when there is none, and nothing from junk", () => {
    expect(headlineScore({ "pass@1": 0.25, accuracy: 0.5 })).toBe(0.25);
    expect(headlineScore({ accuracy: 0.5 })).toBe(0.5);
    expect(headlineScore({ "pass@1": "0.3" })).toBeNull();
    expect(headlineScore(null)).toBeNull();
    expect(headlineScore([])).toBeNull();
  });

  it("lists the other pass@k columns in k order", () => {
    expect(extraPassKeys([{ scores: { "pass@1": 1, "pass@10": 1, accuracy: 1 } }, { scores: { "pass@5": 1 } }, { scores: null }])).toEqual(["pass@5", "pass@10"]);
  });

  it("draws one line per benchmark over steps from completed evaluations, the later one winning a step", () => {
    const lines = scoreLines([
      row({ id: "a", benchmark: "math500", step: 20, scores: { "pass@1": 0.4 } }),
      row({ id: "b", benchmark: "math500", step: 10, scores: { "pass@1": 0.2 } }),
      row({ id: "c", benchmark: "math500", step: 20, scores: { "pass@1": 0.6 }, finishedAt: "2026-01-02T00:00:00.000Z" }),
      row({ id: "d", benchmark: "humaneval-plus", step: 10 }),
      row({ id: "e", benchmark: "humaneval-plus", step: 30, status: "running", scores: {} }),
      row({ id: "f", benchmark: "aime24", step: null }), // a catalogue model: no step to plot at
    ]);
    expect(lines.map((l) => [l.label, l.xs, l.ys])).toEqual([
      ["humaneval-plus", [10], [0.5]],
      ["math500", [10, 20], [0.2, 0.6]],
    ]);
    expect(new Set(lines.map((l) => l.color)).size).toBe(2);
  });

  it("keeps the latest completed score per benchmark", () => {
    const latest = latestScores([
      row({ id: "old", benchmark: "math500", scores: { "pass@1": 0.1 }, finishedAt: "2026-01-01T00:00:00.000Z" }),
      row({ id: "new", benchmark: "math500", step: 5, scores: { "pass@1": 0.3 }, finishedAt: "2026-01-03T00:00:00.000Z" }),
      row({ id: "failed", benchmark: "math500", status: "failed", scores: {}, finishedAt: "2026-01-04T00:00:00.000Z" }),
      row({ id: "he", benchmark: "humaneval-plus" }),
    ]);
    expect([...latest.entries()]).toEqual([
      ["humaneval-plus", { evalId: "he", score: 0.5, step: 10 }],
      ["math500", { evalId: "new", score: 0.3, step: 5 }],
    ]);
  });

  it("gives the runs list one column per benchmark most runs have, and each run's latest score", () => {
    const { benchmarks, byRun } = latestScoresByRun(
      [
        { ...row({ id: "1", benchmark: "math500" }), runId: "r1" },
        { ...row({ id: "2", benchmark: "math500", scores: { "pass@1": 0.9 } }), runId: "r2" },
        { ...row({ id: "3", benchmark: "aime24" }), runId: "r2" },
        { ...row({ id: "4", benchmark: "humaneval-plus" }), runId: "r1" },
        { ...row({ id: "5", benchmark: "humaneval-plus" }), runId: "r2" },
        { ...row({ id: "6", benchmark: "gsm8k" }), runId: null }, // a catalogue model's: no run row
      ],
      2,
    );
    expect(benchmarks).toEqual(["humaneval-plus", "math500"]);
    expect(byRun.get("r2")?.get("math500")?.score).toBe(0.9);
    expect([...byRun.get("r2")!.keys()]).toEqual(["aime24", "humaneval-plus", "math500"]);
    expect(byRun.has("null")).toBe(false);
  });

  it("groups a compared problem by which side solves it", () => {
    expect([outcomeOf(true, false), outcomeOf(false, true), outcomeOf(true, true), outcomeOf(false, false)]).toEqual(["a-only", "b-only", "both", "neither"]);
  });

  it("polls only while an evaluation is queued or running", () => {
    expect(anyActive([{ status: "completed" }, { status: "failed" }])).toBe(false);
    expect(anyActive([{ status: "completed" }, { status: "queued" }])).toBe(true);
  });

  it("groups periodic evaluation metrics into three run-page charts (pass@1 once, fractions apart from counts)", () => {
    const keys = ["eval/math500/pass@1", "eval/math500/pass@10", "eval/math500/accuracy", "eval/math500/solved", "eval/math500/total", "eval/humaneval-plus/pass@1", "train/loss"];
    const groups = groupKeys(keys).map((g) => [g.title, g.keys.map(g.label)]);
    expect(groups).toEqual([
      ["Loss", ["train/loss"]],
      ["Evaluation pass@1 per benchmark", ["humaneval-plus", "math500"]],
      ["Evaluation: accuracy and pass@k", ["math500/accuracy", "math500/pass@10"]],
      ["Evaluation: problems solved of total", ["math500/solved", "math500/total"]],
    ]);
  });

  it("groups the seeding stage's step-0 figures into three charts instead of one chart per key", () => {
    const keys = ["seeding/triplets", "seeding/induction", "seeding/triplet_rounds", "seeding/induction_rounds", "seeding/triplet_valid_rate", "seeding/induction_valid_rate", "seeding/generate_ms", "seeding/execute_ms", "seeding/total_ms"];
    const groups = groupKeys(keys).map((g) => [g.title, g.keys.map(g.label)]);
    expect(groups).toEqual([
      ["Seeding: seeds and proposer rounds", ["induction", "induction_rounds", "triplet_rounds", "triplets"]],
      ["Seeding: valid-proposal rate", ["induction", "triplet"]],
      ["Seeding time (ms)", ["execute", "generate", "total"]],
    ]);
  });

  it("groups the per-type proposal counts and the format errors of both roles instead of one chart per key", () => {
    const keys = ["propose/abduction/count", "propose/abduction/added", "propose/abduction/duplicates", "propose/deduction/count", "propose/abduction/format_errors", "solve/induction/format_errors", "propose/deduction/valid_rate"];
    const groups = groupKeys(keys).map((g) => [g.title, g.keys.map(g.label)]);
    expect(groups).toEqual([
      ["Valid-proposal rate", ["deduction"]],
      ["Proposals per task type: generated, added to the buffer, duplicates", ["abduction added", "abduction count", "abduction duplicates", "deduction count"]],
      ["Format errors (unparseable answers) per task type × role", ["abduction.propose", "induction.solve"]],
    ]);
  });
});
