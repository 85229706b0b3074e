import type { CallOutcome, ExecResult, PyValue } from "@azr/protocol";
import { describe, expect, it } from "vitest";
import { captureGold, judgeAbduction, judgeDeduction, judgeInduction, judgeInductionProposalRun, judgeTripletProposalRun } from "./judge.ts";

const ok = (value: PyValue): CallOutcome => ({ status: "ok", value });
const int = (v: number): PyValue => ({ t: "int", v: String(v) });
const str = (v: string): PyValue => ({ t: "str", v });
const result = (calls: CallOutcome[][], status: ExecResult["status"] = "ok"): ExecResult => ({ id: "r", status, calls, stdout: "", stderr: "", durationMs: 1 });

describe("gold capture", () => {
  it("accepts two equal literal results and stores their repr", () => {
    expect(captureGold([ok(str("ab")), ok(str("ab"))], 4000)).toEqual({ ok: true, value: str("ab"), repr: "'ab'" });
    // 1 and 1.0 are == in Python, so the run counts as deterministic; the first value is gold.
    expect(captureGold([ok(int(1)), ok({ t: "float", v: 1 })], 4000)).toMatchObject({ ok: true, repr: "1" });
  });

  it("rejects differing results, failures, non-literals and long outputs", () => {
    expect(captureGold([ok(int(1)), ok(int(2))], 4000)).toEqual({ ok: false, reason: "nondeterministic" });
    expect(captureGold([ok({ t: "float", v: "nan" }), ok({ t: "float", v: "nan" })], 4000)).toEqual({ ok: false, reason: "nondeterministic" });
    expect(captureGold([ok({ t: "float", v: "inf" }), ok({ t: "float", v: "inf" })], 4000)).toEqual({ ok: false, reason: "non-literal-output" });
    const fs: PyValue = { t: "frozenset", v: [int(1)] };
    expect(captureGold([ok(fs), ok(fs)], 4000)).toEqual({ ok: false, reason: "non-literal-output" });
    expect(captureGold([{ status: "unserialisable", typeName: "Node" }, ok(int(1))], 4000)).toEqual({
      ok: false,
      reason: "unserialisable-output",
      detail: "Node",
    });
    expect(captureGold([{ status: "error", errorType: "ZeroDivisionError", message: "division by zero" }, { status: "not-run" }], 4000)).toEqual({
      ok: false,
      reason: "runtime-error",
      detail: "ZeroDivisionError: division by zero",
    });
    expect(captureGold([ok(int(1)), { status: "timeout" }], 4000)).toEqual({ ok: false, reason: "timeout" });
    expect(captureGold([ok(int(1))], 4000)).toEqual({ ok: false, reason: "missing-result" });
    const long = str("x".repeat(10));
    expect(captureGold([ok(long), ok(long)], 12)).toMatchObject({ ok: true, repr: "'xxxxxxxxxx'" });
    expect(captureGold([ok(long), ok(long)], 11)).toEqual({ ok: false, reason: "output-too-long", detail: "12 chars" });
  });

  it("maps job-level statuses to invalid reasons", () => {
    expect(judgeTripletProposalRun({ ...result([]), status: "banned-import", error: { type: "banned-import", message: "random" } }, 4000)).toEqual({
      ok: false,
      reason: "banned-import",
      detail: "banned-import: random",
    });
    expect(judgeTripletProposalRun(result([], "error"), 4000)).toMatchObject({ ok: false, reason: "runtime-error" });
    expect(judgeTripletProposalRun(result([], "syntax"), 4000)).toMatchObject({ ok: false, reason: "syntax" });
    expect(judgeTripletProposalRun(result([[ok(int(3)), ok(int(3))]]), 4000)).toEqual({ ok: true, value: int(3), repr: "3" });
  });

  it("needs every induction input to give a deterministic literal", () => {
    const good = result([
      [ok(int(1)), ok(int(1))],
      [ok(str("a")), ok(str("a"))],
    ]);
    expect(judgeInductionProposalRun(good, 2, 4000)).toEqual({ ok: true, outputs: ["1", "'a'"] });
    const bad = result([
      [ok(int(1)), ok(int(1))],
      [ok(int(1)), ok(int(2))],
    ]);
    expect(judgeInductionProposalRun(bad, 2, 4000)).toEqual({ ok: false, reason: "nondeterministic", input: 1 });
    expect(judgeInductionProposalRun(good, 3, 4000)).toEqual({ ok: false, reason: "missing-result", input: 2 });
  });
});

describe("deduction", () => {
  it.each([
    ["[1, 2]", "[1, 2]", 1],
    ["  [1, 2]\n", "[1, 2]", 1],
    ["[1,2]", "[1, 2]", 1],
    ["[1.0, True + 1]", "[1, 2]", 0],
    ["[1.0, 2]", "[1, 2]", 1],
    ["(1, 2)", "[1, 2]", 0],
    ["{'b': 2, 'a': 1}", "{'a': 1, 'b': 2}", 1],
    ['"abc"', "'abc'", 1],
    ["abc", "'abc'", 0],
    ["True", "1", 1],
    ["__import__('os').system('x')", "0", 0],
    ["", "''", 0],
    ["1, 2", "(1, 2)", 1],
  ])("%j vs gold %j -> %d", (answer, gold, score) => {
    expect(judgeDeduction(answer, gold)).toBe(score);
  });
});

describe("abduction", () => {
  it("accepts any input whose output equals the gold value", () => {
    expect(judgeAbduction(result([[ok(int(5))]]), "5")).toBe(1);
    expect(judgeAbduction(result([[ok({ t: "float", v: 5 })]]), "5")).toBe(1);
    expect(judgeAbduction(result([[ok(int(6))]]), "5")).toBe(0);
    expect(judgeAbduction(result([[{ status: "error", errorType: "TypeError", message: "x" }]]), "5")).toBe(0);
    expect(judgeAbduction(result([], "timeout"), "5")).toBe(0);
    expect(judgeAbduction(result([[ok(int(5))]]), "<object at 0x1>")).toBe(0);
  });
});

describe("induction", () => {
  const hidden = ["1", "'b'", "[3]"];
  const partial = result([[ok(int(1))], [ok(str("b"))], [ok({ t: "list", v: [int(4)] })]]);
  const all = result([[ok(int(1))], [ok(str("b"))], [ok({ t: "list", v: [int(3)] })]]);
  it("binary: 1 only when every hidden pair passes", () => {
    expect(judgeInduction(all, hidden, "binary")).toBe(1);
    expect(judgeInduction(partial, hidden, "binary")).toBe(0);
  });
  it("accuracy: the fraction of hidden pairs that pass", () => {
    expect(judgeInduction(all, hidden, "accuracy")).toBe(1);
    expect(judgeInduction(partial, hidden, "accuracy")).toBeCloseTo(2 / 3, 12);
    expect(judgeInduction(result([[ok(int(1))], [{ status: "timeout" }], [{ status: "not-run" }]]), hidden, "accuracy")).toBeCloseTo(1 / 3, 12);
  });
  it("a failed job scores 0 in both modes", () => {
    expect(judgeInduction(result([], "syntax"), hidden, "binary")).toBe(0);
    expect(judgeInduction(result([], "syntax"), hidden, "accuracy")).toBe(0);
  });
});
