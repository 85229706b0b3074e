// Task types and roles. Internal reference names: code_o = deduction, code_i = abduction,
// code_f = induction; gen_* = propose, pred_* = solve.

export const TASK_TYPES = ["abduction", "deduction", "induction"] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const ROLES = ["propose", "solve"] as const;
export type Role = (typeof ROLES)[number];

/** The six (task type × role) groups that TRR++ normalises separately. */
export type GroupKey = `${TaskType}.${Role}`;
export const GROUP_KEYS: readonly GroupKey[] = TASK_TYPES.flatMap((t) => ROLES.map((r) => `${t}.${r}` as GroupKey));

/** A (program, input, output) triplet: deduction and abduction tasks. `output` is the repr of
 * the gold return value; `input` is the Python argument list as the proposer wrote it. */
export interface TripletTask {
  kind: "triplet";
  snippet: string;
  input: string;
  output: string;
  imports: string[];
}

/** An induction task: a program with its input/output pairs and a hint for the solver. The
 * first `given` pairs are shown to the solver, the rest are hidden tests. */
export interface InductionTask {
  kind: "induction";
  snippet: string;
  inputs: string[];
  outputs: string[];
  message: string;
  imports: string[];
}

export type TaskRecord = TripletTask | InductionTask;

/** A task as it sits in a buffer: the step that produced it (0 for seeds). */
export interface BufferEntry<T extends TaskRecord = TaskRecord> {
  task: T;
  step: number;
}
