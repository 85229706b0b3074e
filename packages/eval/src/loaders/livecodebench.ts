import type { PyValue } from "@azr/protocol";
import type { BenchmarkDefinition } from "../definition.ts";
import type { CodeProblem, FunctionalCase, StdioCase } from "../problem.ts";
import { PyJsonError, argsSource, parsePyJson } from "../pyjson.ts";
import { type JsonlRecord, readRecords } from "./jsonl.ts";
import { UnsafePickleError, privateTestsJson } from "./lcb-private.ts";

// LiveCodeBench code-generation JSONL (lcb_runner/benchmarks/code_generation.py): question_title,
// question_content, platform, question_id, contest_id, contest_date, starter_code, difficulty,
// public_test_cases and private_test_cases (JSON strings of {input, output, testtype} lists; the
// private ones may be base64+zlib+pickle, see lcb-private.ts), metadata (JSON string; func_name
// for functional problems).

/** Contest dates carry no zone; read them as UTC so the window does not depend on the host. */
export function contestTime(date: string): number {
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(date) ? `${date}T00:00:00Z` : /(Z|[+-]\d{2}:?\d{2})$/.test(date) ? date : `${date}Z`;
  return Date.parse(iso);
}

/** [from, to] in ms; a date-only `to` includes that whole day. */
export function windowBounds(w: BenchmarkDefinition["dateWindow"]): [number, number] {
  const from = w?.from ? contestTime(w.from) : -Infinity;
  let to = w?.to ? contestTime(w.to) : Infinity;
  if (w?.to && /^\d{4}-\d{2}-\d{2}$/.test(w.to)) to += 86_400_000 - 1;
  return [from, to];
}

interface RawCase {
  input: string;
  output: string;
  testtype: "stdin" | "functional";
}

function parseCases(rec: JsonlRecord, field: string, json: string): RawCase[] {
  let list: PyValue;
  try {
    list = parsePyJson(json);
  } catch (e) {
    return rec.fail(field, `not a JSON list of test cases: ${e instanceof PyJsonError ? e.message : String(e)}`);
  }
  if (list.t !== "list") return rec.fail(field, `expected a JSON list, got ${list.t}`);
  return list.v.map((c, i) => {
    if (c.t !== "dict") return rec.fail(`${field}[${i}]`, "expected an object");
    const get = (k: string) => c.v.find(([key]) => key.t === "str" && key.v === k)?.[1];
    const input = get("input");
    const output = get("output");
    const testtype = get("testtype");
    if (input?.t !== "str") return rec.fail(`${field}[${i}].input`, "expected a string");
    if (output?.t !== "str") return rec.fail(`${field}[${i}].output`, "expected a string");
    if (testtype?.t !== "str" || (testtype.v !== "stdin" && testtype.v !== "functional")) {
      return rec.fail(`${field}[${i}].testtype`, 'expected "stdin" or "functional"');
    }
    return { input: input.v, output: output.v, testtype: testtype.v };
  });
}

function functionalCase(rec: JsonlRecord, field: string, c: RawCase, isPublic: boolean): FunctionalCase {
  try {
    // lcb_runner: each line of the input is one JSON argument; the output is one JSON value.
    const args = c.input.split("\n").filter((l) => l.trim() !== "").map((l) => parsePyJson(l));
    return { args: argsSource(args), output: parsePyJson(c.output), public: isPublic };
  } catch (e) {
    return rec.fail(field, `functional test case is not JSON: ${e instanceof PyJsonError ? e.message : String(e)}`);
  }
}

export async function loadLiveCodeBench(def: BenchmarkDefinition, source: string): Promise<CodeProblem[]> {
  const [from, to] = windowBounds(def.dateWindow);
  const out: CodeProblem[] = [];
  const seen = new Set<string>();
  for await (const rec of readRecords(source)) {
    const id = rec.str("question_id");
    if (seen.has(id)) return rec.fail("question_id", `duplicate question_id ${id}`);
    seen.add(id);
    const date = rec.str("contest_date");
    const t = contestTime(date);
    if (Number.isNaN(t)) return rec.fail("contest_date", `not a date: ${JSON.stringify(date)}`);
    if (t < from || t > to) continue;
    const content = rec.str("question_content");
    const starter = rec.str("starter_code", true) ?? "";
    let fnName: string | undefined;
    const meta = rec.str("metadata", true);
    if (meta !== undefined && meta.trim() !== "") {
      let parsed: PyValue;
      try {
        parsed = parsePyJson(meta);
      } catch (e) {
        return rec.fail("metadata", `not JSON: ${(e as Error).message}`);
      }
      const f = parsed.t === "dict" ? parsed.v.find(([k]) => k.t === "str" && k.v === "func_name")?.[1] : undefined;
      if (f !== undefined && f.t === "str") fnName = f.v;
    }
    let privateJson: string;
    try {
      privateJson = privateTestsJson(rec.str("private_test_cases", true) ?? "[]");
    } catch (e) {
      return rec.fail("private_test_cases", e instanceof UnsafePickleError ? e.message : String(e));
    }
    const pub = parseCases(rec, "public_test_cases", rec.str("public_test_cases"));
    const priv = privateJson.trim() === "" ? [] : parseCases(rec, "private_test_cases", privateJson);
    const all = [...pub.map((c) => [c, true] as const), ...priv.map((c) => [c, false] as const)];
    if (all.length === 0) return rec.fail("public_test_cases", "no test cases");
    const types = new Set(all.map(([c]) => c.testtype));
    if (types.size > 1) return rec.fail("private_test_cases", "mixes stdin and functional test cases");
    let tests: CodeProblem["tests"];
    if (types.has("functional")) {
      if (!fnName) return rec.fail("metadata", "functional test cases need metadata.func_name");
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(fnName)) return rec.fail("metadata", `func_name is not an identifier: ${fnName}`);
      tests = { format: "functional", fnName, cases: all.map(([c, p], i) => functionalCase(rec, `${p ? "public" : "private"}_test_cases[${i}]`, c, p)) };
    } else {
      tests = { format: "stdio", cases: all.map(([c, p]): StdioCase => ({ input: c.input, output: c.output, public: p })) };
    }
    out.push({
      kind: "code",
      id,
      prompt: content,
      entryPoint: tests.format === "functional" ? tests.fnName : undefined,
      ...(starter.trim() ? { starterCode: starter } : {}),
      tests,
      timeLimitMs: def.limits.timeoutMs,
      ...(rec.str("question_title", true) ? { title: rec.str("question_title") } : {}),
      date,
    });
    if (def.limit && out.length >= def.limit) break;
  }
  return out;
}
