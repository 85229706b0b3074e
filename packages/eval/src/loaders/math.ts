import type { BenchmarkDefinition } from "../definition.ts";
import { lastBoxed } from "../extract.ts";
import type { MathProblem } from "../problem.ts";
import { readRecords } from "./jsonl.ts";

// Math JSONL as the public sets ship it: the problem under `problem` (MATH-500, AIME, Minerva),
// `question` (AMC) or `Problem`; the answer under `answer`, `final_answer` (OlympiadBench: a list
// of strings), `gt_answer` / `ground_truth`, or only inside the worked `solution` (its last
// \boxed{}). Ids from `unique_id` / `id` / `idx` / `problem_id`, else the line number.

const PROBLEM_FIELDS = ["problem", "question", "Problem", "Question"] as const;
const ANSWER_FIELDS = ["answer", "final_answer", "gt_answer", "ground_truth", "Answer"] as const;
const ID_FIELDS = ["unique_id", "id", "idx", "problem_id", "task_id"] as const;

export async function loadMath(def: BenchmarkDefinition, source: string): Promise<MathProblem[]> {
  const out: MathProblem[] = [];
  const seen = new Set<string>();
  let index = 0;
  for await (const rec of readRecords(source)) {
    index++;
    const p = rec.first(PROBLEM_FIELDS);
    if (!p) return rec.fail("problem", `missing (looked for ${PROBLEM_FIELDS.join(", ")})`);
    const problem = rec.text(p[0], p[1]);
    if (problem.trim() === "") return rec.fail(p[0], "empty");
    let answer: string | undefined;
    const a = rec.first(ANSWER_FIELDS);
    if (a) {
      const [field, v] = a;
      if (v.t === "list") {
        if (v.v.length === 0) return rec.fail(field, "empty list");
        answer = v.v.map((x, i) => rec.text(`${field}[${i}]`, x)).join(", ");
      } else {
        answer = rec.text(field, v);
      }
    } else if (rec.has("solution")) {
      answer = lastBoxed(rec.str("solution"));
      if (answer === undefined) return rec.fail("solution", "no answer field and no \\boxed{} answer in the solution");
    } else {
      return rec.fail("answer", `missing (looked for ${ANSWER_FIELDS.join(", ")}, or a \\boxed{} in solution)`);
    }
    if (answer.trim() === "") return rec.fail(a?.[0] ?? "solution", "empty answer");
    const idField = rec.first(ID_FIELDS);
    const id = idField ? rec.text(idField[0], idField[1]) : `${index}`;
    if (seen.has(id)) return rec.fail(idField?.[0] ?? "id", `duplicate id ${id}`);
    seen.add(id);
    out.push({ kind: "math", id, problem, answer: answer.trim() });
    if (def.limit && out.length >= def.limit) break;
  }
  return out;
}
