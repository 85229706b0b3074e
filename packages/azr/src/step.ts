import type { ExecResult, RunRequest } from "@azr/protocol";
import { applyDefRule, collectImports } from "./code.ts";
import type { RunConfig } from "./config.ts";
import {
  judgeAbduction,
  judgeDeduction,
  judgeInduction,
  judgeInductionProposalRun,
  judgeTripletProposalRun,
  type InvalidReason,
} from "./judge.ts";
import {
  checkFormat,
  extractAnswer,
  extractSolverCode,
  extractSolverField,
  parseInductionProposal,
  parseTripletProposal,
  primeResponse,
} from "./parse.ts";
import type { ProposeItem } from "./plan.ts";
import { givenPairCount } from "./prompts.ts";
import { abductionSolveRequest, inductionProposalRequest, inductionSolveRequest, literalArgs, tripletProposalRequest } from "./requests.ts";
import type { InductionTask, TaskRecord, TaskType, TripletTask } from "./types.ts";

// The per-rollout stages of a step: a completion becomes either a verdict straight away or an
// execution request, and the execution result becomes a verdict. The orchestrator batches the
// requests; these functions never run anything.

// ---- proposals ----------------------------------------------------------------------------------

type TripletDraft = { kind: "triplet"; program: string; imports: string[]; input: string };
type InductionDraft = { kind: "induction"; program: TripletTask; inputs: string[]; message: string };

export type PreparedProposal =
  | { id: string; type: TaskType; formatOk: boolean; stage: "invalid"; reason: InvalidReason; detail?: string }
  | { id: string; type: TaskType; formatOk: true; stage: "run"; request: RunRequest; draft: TripletDraft | InductionDraft };

export type ProposalVerdict =
  | { id: string; type: TaskType; formatOk: boolean; valid: false; reason: InvalidReason; detail?: string }
  | { id: string; type: TaskType; formatOk: true; valid: true; task: TaskRecord };

/** Parse a proposer completion and, if it is well formed, build its validation request. */
export function prepareProposal(item: ProposeItem, completion: string, config: RunConfig): PreparedProposal {
  const response = primeResponse(completion);
  const { id, type } = item;
  if (type === "induction") {
    const parsed = parseInductionProposal(response, config.azr.inductionInputs);
    if (!parsed.ok) {
      const detail = parsed.found !== undefined ? `${parsed.found} inputs` : undefined;
      return { id, type, formatOk: parsed.reason !== "format", stage: "invalid", reason: parsed.reason, detail };
    }
    const program = item.references[0];
    if (!program) return { id, type, formatOk: true, stage: "invalid", reason: "missing-result", detail: "plan has no program" };
    return {
      id,
      type,
      formatOk: true,
      stage: "run",
      request: inductionProposalRequest(id, program, parsed.inputs, config),
      draft: { kind: "induction", program, inputs: parsed.inputs, message: parsed.message },
    };
  }
  const parsed = parseTripletProposal(response);
  if (!parsed.ok) return { id, type, formatOk: parsed.reason !== "format", stage: "invalid", reason: parsed.reason };
  const entry = applyDefRule(parsed.code, config.azr.defRule);
  if (!entry.ok) return { id, type, formatOk: true, stage: "invalid", reason: entry.reason };
  const imports = collectImports(entry.program);
  return {
    id,
    type,
    formatOk: true,
    stage: "run",
    request: tripletProposalRequest(id, entry.program, imports, parsed.input, config),
    draft: { kind: "triplet", program: entry.program, imports, input: parsed.input },
  };
}

/** The verdict on a proposal: invalid with a reason, or a task with its gold output(s). */
export function completeProposal(prepared: PreparedProposal, result: ExecResult | undefined, config: RunConfig): ProposalVerdict {
  const { id, type } = prepared;
  if (prepared.stage === "invalid") return { id, type, formatOk: prepared.formatOk, valid: false, reason: prepared.reason, detail: prepared.detail };
  if (!result) return { id, type, formatOk: true, valid: false, reason: "missing-result" };
  const { draft } = prepared;
  if (draft.kind === "triplet") {
    const gold = judgeTripletProposalRun(result, config.azr.maxOutputChars);
    if (!gold.ok) return { id, type, formatOk: true, valid: false, reason: gold.reason, detail: gold.detail };
    // The executor may have transformed the program (it reports what it ran); store that.
    const snippet = result.program ?? draft.program;
    return { id, type, formatOk: true, valid: true, task: { kind: "triplet", snippet, input: draft.input, output: gold.repr, imports: draft.imports } };
  }
  const outs = judgeInductionProposalRun(result, draft.inputs.length, config.azr.maxOutputChars);
  if (!outs.ok) {
    const detail = [outs.input !== undefined ? `input ${outs.input}` : undefined, outs.detail].filter(Boolean).join(": ");
    return { id, type, formatOk: true, valid: false, reason: outs.reason, detail: detail || undefined };
  }
  const task: InductionTask = {
    kind: "induction",
    snippet: draft.program.snippet,
    inputs: draft.inputs,
    outputs: outs.outputs,
    message: draft.message,
    imports: draft.program.imports,
  };
  return { id, type, formatOk: true, valid: true, task };
}

// ---- solver answers -----------------------------------------------------------------------------

export type PreparedSolve =
  | { id: string; type: TaskType; formatOk: boolean; stage: "judged"; score: number }
  | { id: string; type: TaskType; formatOk: true; stage: "run"; request: RunRequest; task: TaskRecord };

/** Judge a solver completion outright where no execution is needed (deduction, bad format,
 * non-literal abduction input, missing induction program), else build its request. */
export function prepareSolve(id: string, type: TaskType, task: TaskRecord, completion: string, config: RunConfig): PreparedSolve {
  const response = primeResponse(completion);
  if (!checkFormat(response)) return { id, type, formatOk: false, stage: "judged", score: 0 };
  const answer = extractAnswer(response);
  if (task.kind === "induction") {
    const code = extractSolverCode(answer);
    if (code === undefined) return { id, type, formatOk: true, stage: "judged", score: 0 };
    const hiddenFrom = givenPairCount(task.inputs.length);
    return { id, type, formatOk: true, stage: "run", request: inductionSolveRequest(id, code, task, hiddenFrom, config), task };
  }
  if (type === "deduction") {
    const { text } = extractSolverField(answer, "output");
    return { id, type, formatOk: true, stage: "judged", score: judgeDeduction(text, task.output) };
  }
  const { text } = extractSolverField(answer, "input");
  const args = literalArgs(text);
  if (args === undefined) return { id, type, formatOk: true, stage: "judged", score: 0 };
  return { id, type, formatOk: true, stage: "run", request: abductionSolveRequest(id, task, args, config), task };
}

/** The score in [0, 1] of a prepared solver answer, given its execution result if it had one. */
export function completeSolve(prepared: PreparedSolve, result: ExecResult | undefined, config: RunConfig): number {
  if (prepared.stage === "judged") return prepared.score;
  if (!result) return 0;
  const { task } = prepared;
  if (task.kind === "induction") {
    const hidden = task.outputs.slice(givenPairCount(task.outputs.length));
    return judgeInduction(result, hidden, config.azr.inductionReward);
  }
  return judgeAbduction(result, task.output);
}
