import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { deflateSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { resolveBenchmark } from "../definition.ts";
import type { CodeProblem } from "../problem.ts";
import { loadProblems } from "./index.ts";
import { BenchmarkFormatError } from "./jsonl.ts";
import { UnsafePickleError, privateTestsJson, readPickledString } from "./lcb-private.ts";

const dir = mkdtempSync(path.join(tmpdir(), "azr-eval-loaders-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, lines: unknown[]): string {
  const p = path.join(dir, name);
  writeFileSync(p, lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + "\n");
  return p;
}

async function loadError(bench: string, source: string): Promise<BenchmarkFormatError> {
  try {
    await loadProblems(resolveBenchmark(bench, { source }));
  } catch (e) {
    if (e instanceof BenchmarkFormatError) return e;
    throw e;
  }
  throw new Error("loaded without error");
}

describe("fixtures load in every format", () => {
  it("EvalPlus: inputs as Python argument source, MBPP+ tuples restored, check-program fallback", async () => {
    const he = (await loadProblems(resolveBenchmark("fixture-humaneval-plus"))) as CodeProblem[];
    expect(he).toHaveLength(8);
    const pow = he.find((p) => p.id === "HumanEval/6")!;
    expect(pow.tests).toMatchObject({ format: "evalplus", dataset: "humaneval", base: ["10", "0"], plus: ["64", "100", "200"] });
    expect(he.find((p) => p.id === "HumanEval/7")!.tests.format).toBe("check");
    const mbpp = (await loadProblems(resolveBenchmark("fixture-mbpp-plus"))) as CodeProblem[];
    expect(mbpp[0]!.tests).toMatchObject({ dataset: "mbpp", base: ["(3, 4, 5, 6), (5, 7, 4, 10)", "(1, 2, 3, 4), (5, 4, 3, 7)"], plus: ["(11, 12, 14, 13), (17, 15, 14, 13)", "(1,), (2,)"] });
    const base = (await loadProblems(resolveBenchmark("fixture-humaneval-plus", { evalplusTests: "base" }))) as CodeProblem[];
    expect(base[0]!.tests).toMatchObject({ plus: [] });
  });

  it("LiveCodeBench: the date window (UTC, a date-only end includes its day), stdin and functional tests, pickled private tests", async () => {
    const lcb = (await loadProblems(resolveBenchmark("fixture-livecodebench"))) as CodeProblem[];
    expect(lcb.map((p) => p.id)).toEqual(["abc371_a", "2032_b", "3217", "3301", "abc390_b"]);
    const all = await loadProblems(resolveBenchmark("fixture-livecodebench", { dateWindow: {} }));
    expect(all.map((p) => p.id)).toContain("abc300_a");
    const fn = lcb.find((p) => p.id === "3301")!;
    expect(fn.entryPoint).toBe("rotateSplit");
    expect(fn.tests).toMatchObject({ format: "functional", cases: [{ args: "'abcde', 2", output: { t: "list" }, public: true }, { public: false }, { public: false }] });
    const pickled = lcb.find((p) => p.id === "2032_b")!;
    expect(pickled.tests).toMatchObject({ format: "stdio", cases: [{ public: true }, { input: "1\n7 2\n", output: "3.500000\n", public: false }, { public: false }] });
  });

  it("math: problem/question/answer/final_answer/solution variants; CruxEval", async () => {
    const math = await loadProblems(resolveBenchmark("fixture-math"));
    expect(math.slice(0, 4)).toEqual([
      { kind: "math", id: "algebra/1.json", problem: expect.stringContaining("frac"), answer: "\\frac{3}{4}" },
      { kind: "math", id: "2", problem: expect.stringContaining("eggs"), answer: "12" },
      { kind: "math", id: "3", problem: expect.any(String), answer: "\\frac{1}{2}" },
      { kind: "math", id: "ob-4", problem: expect.any(String), answer: "$x+1$" },
    ]);
    const crux = await loadProblems(resolveBenchmark("fixture-cruxeval-i"));
    expect(crux[1]).toMatchObject({ kind: "io", id: "sample_1", input: "'ab'", output: "'ABba'", mode: "input" });
    expect(await loadProblems(resolveBenchmark("fixture-cruxeval-o", { limit: 3 }))).toHaveLength(3);
  });
});

describe("bad input is refused with file, line and field", () => {
  it("names the line and field", async () => {
    const p = file("he.jsonl", [
      { task_id: "A/0", prompt: "def f(x):\n", entry_point: "f", canonical_solution: "  return x\n", base_input: [[1]], plus_input: [], atol: 0 },
      { task_id: "A/1", prompt: "def g(x):\n", entry_point: "g x", canonical_solution: "  return x\n", base_input: [[1]] },
    ]);
    const e = await loadError("humaneval-plus", p);
    expect(e.message).toBe(`${p}:2: field entry_point: not a Python identifier: "g x"`);
    expect([e.file, e.line, e.field]).toEqual([p, 2, "entry_point"]);
  });

  it.each([
    ["humaneval-plus", [{ task_id: "A/0", prompt: "p", entry_point: "f", canonical_solution: "c", base_input: [1] }], 1, "base_input[0]", /argument list/],
    ["humaneval-plus", ["{not json"], 1, undefined, /not valid JSON/],
    ["math500", [{ problem: "1+1?", answer: "2" }, { problem: "no answer" }], 2, "answer", /missing/],
    ["math500", [{ problem: "x", solution: "no box here" }], 1, "solution", /no answer field and no \\boxed/],
    ["cruxeval-o", [{ code: "def f(x):\n    return x", input: "os.getcwd()", output: "1" }], 1, "input", /literal/],
    ["livecodebench", [{ question_id: "q", contest_date: "2024-01-01T00:00:00", question_content: "c", public_test_cases: "[{\"input\": \"1\", \"output\": \"1\", \"testtype\": \"weird\"}]", private_test_cases: "[]", metadata: "{}" }], 1, "public_test_cases[0].testtype", /stdin/],
    ["livecodebench", [{ question_id: "q", contest_date: "someday", question_content: "c", public_test_cases: "[]" }], 1, "contest_date", /not a date/],
  ])("%s line %#", async (bench, lines, line, field, message) => {
    const p = file(`bad-${bench}-${Math.random().toString(36).slice(2)}.jsonl`, lines as unknown[]);
    const e = await loadError(bench, p);
    expect([e.line, e.field]).toEqual([line, field]);
    expect(e.detail).toMatch(message);
  });

  it("says what to do when there is no source, or it does not exist", async () => {
    await expect(loadProblems(resolveBenchmark("math500"))).rejects.toThrow(/no source: point it at a JSONL file/);
    await expect(loadProblems(resolveBenchmark("math500", { source: path.join(dir, "missing.jsonl") }))).rejects.toThrow(/never downloaded/);
  });

  it("reads a directory's .jsonl files in name order", async () => {
    const d = mkdtempSync(path.join(dir, "set-"));
    writeFileSync(path.join(d, "b.jsonl"), JSON.stringify({ problem: "second", answer: "2", id: "b" }) + "\n");
    writeFileSync(path.join(d, "a.jsonl"), JSON.stringify({ problem: "first", answer: "1", id: "a" }) + "\n\n");
    writeFileSync(path.join(d, "notes.txt"), "ignored");
    expect((await loadProblems(resolveBenchmark("math500", { source: d }))).map((p) => p.id)).toEqual(["a", "b"]);
  });
});

describe("LiveCodeBench private tests: pickled JSON strings are read as data, never unpickled", () => {
  const python = (code: string, input: string) => execFileSync("/usr/bin/python3", ["-c", code], { encoding: "utf8", input }).trim();

  it.each([["short", "[]"], ["long (a large string outside pickle frames)", JSON.stringify([{ input: "x".repeat(200_000), output: "é", testtype: "stdin" }])]])("decodes what Python's pickle.dumps wrote: %s", (_name, json) => {
    const b64 = python("import base64, pickle, sys, zlib; print(base64.b64encode(zlib.compress(pickle.dumps(sys.stdin.read()))).decode())", json);
    expect(privateTestsJson(b64)).toBe(json);
  });

  it("refuses a pickle that would build objects or call functions", () => {
    // What pickle.dumps(os.system) and a __reduce__ payload start with: GLOBAL / STACK_GLOBAL.
    const evil = Buffer.concat([Buffer.from([0x80, 0x04]), Buffer.from("cposix\nsystem\n(S'echo hi'\ntR.", "latin1")]);
    expect(() => readPickledString(evil)).toThrow(UnsafePickleError);
    expect(() => privateTestsJson(deflateSync(evil).toString("base64"))).toThrow(/refusing to unpickle/);
    expect(() => readPickledString(Buffer.from([0x80, 0x04, 0x8c, 0x01, 0x61, 0x8c, 0x01, 0x62, 0x2e]))).toThrow(/more than one value/);
    expect(() => privateTestsJson("%%%")).toThrow(/neither JSON nor base64/);
  });

  it("a refused private field is a format error naming the line", async () => {
    const evil = deflateSync(Buffer.from([0x80, 0x04, 0x63, 0x6f, 0x73, 0x0a])).toString("base64");
    const p = file("lcb-evil.jsonl", [{ question_id: "q", contest_date: "2024-09-01T00:00:00", question_content: "c", public_test_cases: "[]", private_test_cases: evil, metadata: "{}" }]);
    const e = await loadError("livecodebench", p);
    expect([e.line, e.field]).toEqual([1, "private_test_cases"]);
  });
});
