import { z } from "zod";
import { parseLiteral } from "./pyliteral.ts";
import type { Rng } from "./rng.ts";
import type { BufferEntry, InductionTask, TaskRecord, TripletTask } from "./types.ts";

// Task buffers (azr-spec §4): one per task type, append-only with a size cap that keeps the
// oldest entries, exact-duplicate rejection, and the step each entry was added at (seeds: 0).

export type AddOutcome = "added" | "duplicate" | "full";

/** Canonical JSON of a task's content, for exact-duplicate detection (the step is not part of it). */
export function taskKey(task: TaskRecord): string {
  return task.kind === "triplet"
    ? JSON.stringify(["t", task.snippet, task.input, task.output, task.imports])
    : JSON.stringify(["i", task.snippet, task.inputs, task.outputs, task.message, task.imports]);
}

export class TaskBuffer<T extends TaskRecord> {
  private items: BufferEntry<T>[];
  private keys: Set<string>;

  constructor(
    readonly capacity: number,
    entries: readonly BufferEntry<T>[] = [],
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`buffer capacity must be a positive integer, got ${capacity}`);
    this.items = [];
    this.keys = new Set();
    for (const e of entries) this.add(e.task, e.step);
  }

  get size(): number {
    return this.items.length;
  }

  entries(): readonly BufferEntry<T>[] {
    return this.items;
  }

  at(i: number): BufferEntry<T> {
    const e = this.items[i];
    if (!e) throw new RangeError(`buffer index ${i} out of range (size ${this.items.length})`);
    return e;
  }

  has(task: T): boolean {
    return this.keys.has(taskKey(task));
  }

  add(task: T, step: number): AddOutcome {
    const key = taskKey(task);
    if (this.keys.has(key)) return "duplicate";
    if (this.items.length >= this.capacity) return "full";
    this.keys.add(key);
    this.items.push({ task, step });
    return "added";
  }

  /** A copy that can grow without touching this one (entries themselves are immutable). */
  clone(): TaskBuffer<T> {
    const copy = new TaskBuffer<T>(this.capacity);
    copy.items = this.items.slice();
    copy.keys = new Set(this.keys);
    return copy;
  }
}

export interface TaskBuffers {
  abduction: TaskBuffer<TripletTask>;
  deduction: TaskBuffer<TripletTask>;
  induction: TaskBuffer<InductionTask>;
}

export function cloneBuffers(b: TaskBuffers): TaskBuffers {
  return { abduction: b.abduction.clone(), deduction: b.deduction.clone(), induction: b.induction.clone() };
}

/** The reference's seed triplet: the identity function on "Hello world". */
export const SEED_TRIPLET: TripletTask = {
  kind: "triplet",
  snippet: "def f(a):\n    return a",
  input: "'Hello world'",
  output: "'Hello world'",
  imports: [],
};

/** The reference's induction seed: the identity function on six inputs of different types. */
export const SEED_INDUCTION: InductionTask = {
  kind: "induction",
  snippet: "def f(a):\n    return a",
  inputs: ["'Hello world'", "1", "dict(a=1, b=2)", "(1.1, 1.2, 1.3)", "'[[1, 0, 0], [0, 0, 0], [0, 0, 0]]'", "1001101100010001"],
  outputs: ["'Hello world'", "1", "{'a': 1, 'b': 2}", "(1.1, 1.2, 1.3)", "'[[1, 0, 0], [0, 0, 0], [0, 0, 0]]'", "1001101100010001"],
  message: "Write a function that returns its input unchanged.",
  imports: [],
};

/** Fresh buffers. Deduction and abduction start from the same triplets (the identity seed unless
 * imported seeds are given), induction from its own seeds. */
export function createBuffers(
  capacity: number,
  seeds: { triplets?: readonly TripletTask[]; induction?: readonly InductionTask[] } = {},
): TaskBuffers {
  const triplets = seeds.triplets && seeds.triplets.length > 0 ? seeds.triplets : [SEED_TRIPLET];
  const induction = seeds.induction && seeds.induction.length > 0 ? seeds.induction : [SEED_INDUCTION];
  const entries = triplets.map((task) => ({ task, step: 0 }));
  return {
    abduction: new TaskBuffer<TripletTask>(capacity, entries),
    deduction: new TaskBuffer<TripletTask>(capacity, entries),
    induction: new TaskBuffer<InductionTask>(
      capacity,
      induction.map((task) => ({ task, step: 0 })),
    ),
  };
}

// ---- import of the reference's released seed files (JSONL) -------------------------------------

const importsField = z
  .union([z.array(z.string()), z.string()])
  .optional()
  .transform((v) => (v === undefined ? [] : typeof v === "string" ? v.split("\n").filter((l) => l.trim() !== "") : v));

const literalOutput = z.string().superRefine((s, ctx) => {
  const r = parseLiteral(s);
  if (!r.ok) ctx.addIssue({ code: "custom", message: `not a Python literal (${r.error})` });
});

const seedTripletSchema = z.looseObject({
  snippet: z.string().min(1),
  input: z.string().min(1),
  output: literalOutput,
  imports: importsField,
});

const seedInductionSchema = z
  .looseObject({
    snippet: z.string().min(1),
    inputs: z.array(z.string().min(1)).min(2),
    outputs: z.array(literalOutput).min(2),
    message: z.string().min(1),
    imports: importsField,
  })
  .refine((e) => e.inputs.length === e.outputs.length, { path: ["outputs"], message: "must have as many entries as inputs" });

export type SeedImport<T> = { tasks: T[]; errors: string[] };

function importJsonl<T, S extends z.ZodType>(text: string, schema: S, toTask: (row: z.output<S>) => T): SeedImport<T> {
  const tasks: T[] = [];
  const errors: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      errors.push(`line ${i + 1}: invalid JSON (${(e as Error).message})`);
      return;
    }
    const r = schema.safeParse(raw);
    if (!r.success) {
      for (const issue of r.error.issues) errors.push(`line ${i + 1}: ${issue.path.join(".") || "(row)"}: ${issue.message}`);
      return;
    }
    tasks.push(toTask(r.data));
  });
  return { tasks, errors };
}

/** Import errors as one line for a message: the first few, then how many more. */
export function seedImportErrorText(errors: readonly string[], shown = 5): string {
  const head = errors.slice(0, shown).join("; ");
  return errors.length > shown ? `${head}; and ${errors.length - shown} more` : head;
}

/** Rows of a `<model>_seed_io.jsonl` file: {snippet, input, output, imports}. */
export function importTripletSeeds(jsonl: string): SeedImport<TripletTask> {
  return importJsonl(jsonl, seedTripletSchema, (r) => ({ kind: "triplet", snippet: r.snippet, input: r.input, output: r.output, imports: r.imports }));
}

/** Rows of a `<model>_code_f_seed_io.jsonl` file: {snippet, inputs, outputs, message, imports}. */
export function importInductionSeeds(jsonl: string): SeedImport<InductionTask> {
  return importJsonl(jsonl, seedInductionSchema, (r) => ({
    kind: "induction",
    snippet: r.snippet,
    inputs: r.inputs,
    outputs: r.outputs,
    message: r.message,
    imports: r.imports,
  }));
}

// ---- sampling -----------------------------------------------------------------------------------

/** K distinct references (all of them if the buffer is smaller), uniformly or weighted by
 * step + 1 so recent entries are likelier. */
export function sampleReferences<T extends TaskRecord>(buffer: TaskBuffer<T>, k: number, mode: "uniform" | "recency", rng: Rng): T[] {
  const entries = buffer.entries();
  const idx = mode === "uniform" ? rng.sampleIndices(entries.length, k) : rng.sampleIndicesWeighted(entries.map((e) => e.step + 1), k);
  return idx.map((i) => entries[i]!.task);
}

/** Solver tasks for a step (pred_data_mix_strategy=max_new): entries added within `window` steps
 * before `step`, newest first, then uniform draws (with replacement) from the whole buffer. */
export function selectSolverTasks<T extends TaskRecord>(buffer: TaskBuffer<T>, count: number, step: number, window: number, rng: Rng): T[] {
  const entries = buffer.entries();
  const out: T[] = [];
  const oldest = step - window;
  for (let i = entries.length - 1; i >= 0 && out.length < count; i--) {
    if (entries[i]!.step < oldest) break; // entries are appended in step order
    out.push(entries[i]!.task);
  }
  while (out.length < count && entries.length > 0) out.push(entries[rng.int(entries.length)]!.task);
  return out;
}

// ---- serialisation for checkpoints -------------------------------------------------------------

const tripletTaskSchema = z.object({
  kind: z.literal("triplet"),
  snippet: z.string(),
  input: z.string(),
  output: z.string(),
  imports: z.array(z.string()),
});
const inductionTaskSchema = z.object({
  kind: z.literal("induction"),
  snippet: z.string(),
  inputs: z.array(z.string()),
  outputs: z.array(z.string()),
  message: z.string(),
  imports: z.array(z.string()),
});
const entrySchema = <S extends z.ZodType>(task: S) => z.object({ task, step: z.number().int().min(0) });

export const buffersJsonSchema = z.object({
  version: z.literal(1),
  capacity: z.number().int().min(1),
  abduction: z.array(entrySchema(tripletTaskSchema)),
  deduction: z.array(entrySchema(tripletTaskSchema)),
  induction: z.array(entrySchema(inductionTaskSchema)),
});
export type BuffersJson = z.infer<typeof buffersJsonSchema>;

export function buffersToJson(b: TaskBuffers): BuffersJson {
  return {
    version: 1,
    capacity: b.abduction.capacity,
    abduction: [...b.abduction.entries()],
    deduction: [...b.deduction.entries()],
    induction: [...b.induction.entries()],
  };
}

export function buffersFromJson(json: unknown): { ok: true; buffers: TaskBuffers } | { ok: false; errors: string[] } {
  const r = buffersJsonSchema.safeParse(json);
  if (!r.success) return { ok: false, errors: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) };
  const { capacity } = r.data;
  return {
    ok: true,
    buffers: {
      abduction: new TaskBuffer<TripletTask>(capacity, r.data.abduction),
      deduction: new TaskBuffer<TripletTask>(capacity, r.data.deduction),
      induction: new TaskBuffer<InductionTask>(capacity, r.data.induction),
    },
  };
}
