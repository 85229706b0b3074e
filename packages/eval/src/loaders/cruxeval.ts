import { parseArgs, parseLiteral } from "@azr/azr";
import type { BenchmarkDefinition } from "../definition.ts";
import type { IoProblem } from "../problem.ts";
import { readRecords } from "./jsonl.ts";

// CRUXEval JSONL (cruxeval-org/cruxeval data/cruxeval.jsonl): id, code (defines `f`), input (the
// argument list, Python literals), output (repr of f(input)). The same records serve input
// prediction (CRUXEval-I) and output prediction (CRUXEval-O); the definition picks the side.

export async function loadCruxEval(def: BenchmarkDefinition, source: string): Promise<IoProblem[]> {
  const mode = def.cruxevalMode ?? "output";
  const out: IoProblem[] = [];
  const seen = new Set<string>();
  let index = 0;
  for await (const rec of readRecords(source)) {
    index++;
    const id = rec.has("id") ? rec.text("id", rec.get("id")!) : `sample_${index - 1}`;
    if (seen.has(id)) return rec.fail("id", `duplicate id ${id}`);
    seen.add(id);
    const code = rec.str("code");
    if (!/^\s*def\s+f\s*\(/m.test(code)) return rec.fail("code", "expected a program defining f");
    const input = rec.str("input");
    const parsedInput = parseArgs(input);
    if (!parsedInput.ok) return rec.fail("input", `not a Python literal argument list: ${parsedInput.error}`);
    const output = rec.str("output");
    const parsedOutput = parseLiteral(output);
    if (!parsedOutput.ok) return rec.fail("output", `not a Python literal: ${parsedOutput.error}`);
    out.push({ kind: "io", id, code, input, output, mode });
    if (def.limit && out.length >= def.limit) break;
  }
  return out;
}
