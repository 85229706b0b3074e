import type { ExecLimits, RunRequest, StaticChecks } from "@azr/protocol";
import type { RunConfig } from "./config.ts";
import { pyRepr } from "./pyrepr.ts";
import { parseArgs } from "./pyliteral.ts";
import type { InductionTask, TripletTask } from "./types.ts";

// Execution requests in the executor's generic vocabulary (packages/protocol/src/executor.ts).
// Only programs and argument lists go out; gold outputs and hidden outputs stay here and are
// compared with the returned values in judge.ts.

export function execLimits(config: RunConfig): Partial<ExecLimits> {
  return { timeoutMs: config.executor.timeoutMs, memoryMb: config.executor.memoryMb };
}

function proposalChecks(config: RunConfig): StaticChecks {
  return {
    renameToF: false, // already renamed in code.ts
    bannedModules: config.azr.bannedModules,
    bannedCheck: config.azr.bannedCheck,
    rejectInputCall: true,
  };
}

/** A deduction/abduction proposal: the (renamed) program, `f(input)` twice in one process for the
 * determinism check, and the banned-import check done by the executor on the real AST. */
export function tripletProposalRequest(id: string, program: string, imports: string[], input: string, config: RunConfig): RunRequest {
  return {
    id,
    kind: "run",
    program,
    imports,
    checks: proposalChecks(config),
    entry: "f",
    argsMode: "expression",
    calls: [input],
    repeat: 2,
    limits: execLimits(config),
  };
}

/** An induction proposal: the buffer program it was built on, called twice on each proposed
 * input. The reference does not banned-check these (the program is already in the buffer). */
export function inductionProposalRequest(id: string, program: Pick<TripletTask, "snippet" | "imports">, inputs: string[], config: RunConfig): RunRequest {
  return {
    id,
    kind: "run",
    program: program.snippet,
    imports: program.imports,
    checks: { renameToF: false, bannedModules: [], bannedCheck: config.azr.bannedCheck, rejectInputCall: true },
    entry: "f",
    argsMode: "expression",
    calls: inputs,
    repeat: 2,
    limits: execLimits(config),
  };
}

/** Canonical argument text for a solver's input, or undefined when it is not a literal (then
 * the answer is wrong without running anything). */
export function literalArgs(text: string): string | undefined {
  const r = parseArgs(text);
  return r.ok ? r.args.map(pyRepr).join(", ") : undefined;
}

/** An abduction answer: the task's program called once on the solver's literal input. */
export function abductionSolveRequest(id: string, task: TripletTask, canonicalArgs: string, config: RunConfig): RunRequest {
  return {
    id,
    kind: "run",
    program: task.snippet,
    imports: task.imports,
    entry: "f",
    argsMode: "literal",
    calls: [canonicalArgs],
    repeat: 1,
    limits: execLimits(config),
  };
}

/** An induction answer: the solver's program called on the hidden inputs (never their outputs).
 * Inputs that are literals travel in literal mode; a proposer's expression inputs (e.g.
 * `dict(a=1)`) are evaluated in the program's namespace, as in the reference. */
export function inductionSolveRequest(id: string, program: string, task: InductionTask, hiddenFrom: number, config: RunConfig): RunRequest {
  const hidden = task.inputs.slice(hiddenFrom);
  const literal = hidden.map(literalArgs);
  const allLiteral = literal.every((a) => a !== undefined);
  return {
    id,
    kind: "run",
    program,
    imports: task.imports,
    checks: { renameToF: false, bannedModules: [], bannedCheck: config.azr.bannedCheck, rejectInputCall: true },
    entry: "f",
    argsMode: allLiteral ? "literal" : "expression",
    calls: allLiteral ? (literal as string[]) : hidden,
    repeat: 1,
    limits: execLimits(config),
  };
}
