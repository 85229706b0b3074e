import type { PyValue } from "@azr/protocol";
import type { BenchmarkDefinition } from "../definition.ts";
import type { CodeProblem } from "../problem.ts";
import { argsSource, type PyArg } from "../pyjson.ts";
import { type JsonlRecord, readRecords } from "./jsonl.ts";

// EvalPlus's release files (HumanEvalPlus-*.jsonl, MbppPlus-*.jsonl): task_id, prompt,
// entry_point, canonical_solution, base_input, plus_input, atol, test, contract. Inputs are
// JSON argument lists; MBPP+ stores tuples, sets and complex numbers in JSON-friendly form and
// turns them back per task (evalplus/data/mbpp.py `mbpp_deserialize_inputs`), reproduced here so
// programs see the types the canonical solution was written for.

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

const tuple = (v: PyValue): PyValue => (v.t === "list" || v.t === "tuple" ? { t: "tuple", v: v.v } : v);
const items = (v: PyValue): PyValue[] => (v.t === "list" || v.t === "tuple" ? v.v : []);
const mapItems = (v: PyValue, f: (x: PyValue) => PyValue): PyValue => (v.t === "list" || v.t === "tuple" ? { t: v.t, v: v.v.map(f) } : v);
const deepTuple = (v: PyValue): PyValue => (v.t === "list" || v.t === "tuple" ? { t: "tuple", v: v.v.map(deepTuple) } : v);
const asText = (v: PyValue): string => (v.t === "str" ? v.v : v.t === "int" ? v.v : v.t === "float" ? String(v.v) : "");

type ArgsTransform = (args: PyValue[]) => PyArg[];
const MBPP_TRANSFORMS = new Map<number, ArgsTransform>();
function rule(ids: number[], f: ArgsTransform): void {
  for (const id of ids) MBPP_TRANSFORMS.set(id, f);
}
rule([2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630, 726, 740, 744, 809], (a) => a.map(tuple));
rule([63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780], (a) => a.map((x) => mapItems(x, tuple)));
rule([75, 413, 444, 753], (a) => [mapItems(a[0]!, tuple), ...a.slice(1)]);
rule([106, 750], (a) => [a[0]!, tuple(a[1]!), ...a.slice(2)]);
rule([115], (a) => [{ t: "list", v: items(a[0]!).map((x) => ((x.t === "list" && x.v.length > 0 ? { t: "set", v: x.v } : { t: "dict", v: [] }) as PyValue)) }]);
rule([124], (a) => [{ t: "float", v: Number(asText(a[0]!)) }, { t: "complex", v: asText(a[1]!) }]);
rule([250, 405, 446, 617, 720, 763, 808], (a) => [tuple(a[0]!), ...a.slice(1)]);
rule([259, 401, 445], (a) => a.map((x) => tuple(mapItems(x, tuple))));
rule([278], (a) => [tuple(mapItems(a[0]!, (x) => (x.t === "list" ? tuple(x) : x)))]);
rule([307], (a) => [tuple(a[0]!), ...a.slice(1)]);
rule([722], (a) => [a[0]!.t === "dict" ? { t: "dict", v: a[0]!.v.map(([k, x]) => [k, tuple(x)] as [PyValue, PyValue]) } : a[0]!, ...a.slice(1)]);
rule([252], (a) => [{ t: "complex", v: asText(a[0]!) }]);
rule([580, 615, 791], (a) => a.map(deepTuple));

function inputs(rec: JsonlRecord, field: string, mbppTask: number | undefined): string[] {
  const list = rec.list(field, true) ?? [];
  return list.map((entry, i) => {
    if (entry.t !== "list") return rec.fail(`${field}[${i}]`, `expected an argument list, got ${entry.t}`);
    const transform = mbppTask === undefined ? undefined : MBPP_TRANSFORMS.get(mbppTask);
    return argsSource(transform ? transform(entry.v) : entry.v);
  });
}

export async function loadEvalPlus(def: BenchmarkDefinition, source: string): Promise<CodeProblem[]> {
  const out: CodeProblem[] = [];
  const seen = new Set<string>();
  for await (const rec of readRecords(source)) {
    const id = rec.str("task_id");
    if (seen.has(id)) return rec.fail("task_id", `duplicate task_id ${id}`);
    seen.add(id);
    const prompt = rec.str("prompt");
    const entryPoint = rec.str("entry_point");
    if (!IDENT.test(entryPoint)) return rec.fail("entry_point", `not a Python identifier: ${JSON.stringify(entryPoint)}`);
    const mbppMatch = /^Mbpp\/(\d+)$/.exec(id);
    const dataset = mbppMatch ? "mbpp" : "humaneval";
    const atol = rec.number("atol", 0);
    if (atol < 0) return rec.fail("atol", "must not be negative");
    let tests: CodeProblem["tests"];
    if (rec.has("base_input")) {
      const canonical = rec.str("canonical_solution");
      tests = {
        format: "evalplus",
        dataset,
        // EvalPlus runs `prompt + canonical_solution` for the ground truth.
        canonicalSolution: prompt + canonical,
        base: inputs(rec, "base_input", mbppMatch ? Number(mbppMatch[1]) : undefined),
        plus: def.evalplusTests === "base" ? [] : inputs(rec, "plus_input", mbppMatch ? Number(mbppMatch[1]) : undefined),
        atol,
      };
      if (tests.base.length + tests.plus.length === 0) return rec.fail("base_input", "no test inputs");
    } else {
      const program = rec.str("test", true);
      if (program === undefined) return rec.fail("base_input", "missing (and no `test` check program to fall back on)");
      if (!/\bdef\s+check\s*\(/.test(program)) return rec.fail("test", "expected a program defining check(candidate)");
      tests = { format: "check", program };
    }
    out.push({ kind: "code", id, prompt, entryPoint, tests, timeLimitMs: def.limits.timeoutMs });
    if (def.limit && out.length >= def.limit) break;
  }
  return out;
}
