import {
  abductionSolveRequest,
  completeSolve,
  extractAnswer,
  extractSolverField,
  judgeAbduction,
  judgeDeduction,
  literalArgs,
  parseRunConfig,
  prepareSolve,
  primeResponse,
  type RunConfig,
  type TaskType,
} from "@azr/azr";
import type { ExecutorPool } from "@azr/executor";
import type { ExecResult, RunRequest } from "@azr/protocol";
import type { BenchmarkDefinition, TemplateStyle } from "./definition.ts";
import type { IoProblem } from "./problem.ts";
import { ioTask } from "./prompt.ts";
import type { ProblemResult, SampleResult } from "./result.ts";

// Input/output prediction (CruxEval, the reference's validation set) is judged exactly as AZR's
// deduction (output) and abduction (input) solver answers: packages/azr's prepareSolve /
// completeSolve for the think/answer template, and its extraction and judges on the whole
// completion for base models (which write no tags).

export interface IoItem {
  problem: IoProblem;
  completions: readonly string[];
}

function judgeConfig(def: BenchmarkDefinition): RunConfig {
  const r = parseRunConfig({ executor: { timeoutMs: def.limits.timeoutMs, memoryMb: def.limits.memoryMb } });
  if (!r.ok) throw new Error(`io judge config: ${r.errors.join("; ")}`);
  return r.config;
}

type Prepared =
  | { done: true; correct: boolean; extracted: string | null; detail: string; format: boolean }
  | { done: false; request: RunRequest; finish: (r: ExecResult) => boolean; extracted: string };

function prepare(p: IoProblem, completion: string, style: TemplateStyle, config: RunConfig, id: string): Prepared {
  const type: TaskType = p.mode === "output" ? "deduction" : "abduction";
  const task = ioTask(p);
  const field = p.mode;
  if (style === "azr") {
    const response = primeResponse(completion);
    const prepared = prepareSolve(id, type, task, completion, config);
    const extracted = prepared.formatOk ? extractSolverField(extractAnswer(response), field).text : null;
    if (prepared.stage === "judged") {
      return { done: true, correct: prepared.score === 1, extracted, format: prepared.formatOk, detail: prepared.formatOk ? "" : "not in the <think>…</think> <answer>…</answer> format" };
    }
    return { done: false, request: prepared.request, extracted: extracted ?? "", finish: (r) => completeSolve(prepared, r, config) === 1 };
  }
  const { text } = extractSolverField(completion, field);
  if (p.mode === "output") return { done: true, correct: judgeDeduction(text, p.output) === 1, extracted: text, format: true, detail: "" };
  const args = literalArgs(text);
  if (args === undefined) return { done: true, correct: false, extracted: text, format: true, detail: "the predicted input is not a Python literal argument list" };
  return { done: false, request: abductionSolveRequest(id, task, args, config), extracted: text, finish: (r) => judgeAbduction(r, p.output) === 1 };
}

export async function scoreIo(def: BenchmarkDefinition, items: readonly IoItem[], executor: ExecutorPool, style: TemplateStyle): Promise<ProblemResult[]> {
  const config = judgeConfig(def);
  const prepared = items.map(({ problem, completions }, i) => completions.map((c, j) => prepare(problem, c, style, config, `io-${i}-${j}`)));
  const runs = prepared.flat().filter((x): x is Extract<Prepared, { done: false }> => !x.done);
  const results = await executor.runAll(runs.map((r) => r.request));
  const byRun = new Map(runs.map((r, k) => [r, results[k]!]));
  return items.map(({ problem, completions }, i) => {
    const samples: SampleResult[] = completions.map((completion, j) => {
      const x = prepared[i]![j]!;
      if (x.done) {
        if (!x.format) return { completion, extracted: null, correct: false, status: "format", detail: x.detail };
        return { completion, extracted: x.extracted, correct: x.correct, status: x.correct ? "pass" : "wrong-answer", detail: x.detail || (x.correct ? "equal to the gold value" : `expected ${problem.mode === "output" ? problem.output : `an input giving ${problem.output}`}`) };
      }
      const r = byRun.get(x)!;
      const correct = x.finish(r);
      const status = correct ? "pass" : r.status === "ok" ? "wrong-answer" : r.status === "error" ? "runtime-error" : r.status === "syntax" || r.status === "timeout" || r.status === "memory" || r.status === "output-limit" ? r.status : "sandbox-failure";
      const detail = correct ? `f(${x.extracted}) == ${problem.output}` : r.status === "ok" ? `f(${x.extracted}) != ${problem.output}` : `${r.error?.type ?? r.status}: ${r.error?.message ?? ""}`;
      return { completion, extracted: x.extracted, correct, status, detail };
    });
    return { problemId: problem.id, samples, correct: samples.filter((s) => s.correct).length, n: samples.length };
  });
}
