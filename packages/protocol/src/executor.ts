import { z } from "zod";

// The executor's generic vocabulary. The executor knows nothing about AZR: it statically checks
// programs and calls `f` with argument lists, returning plain values. Gold outputs and hidden
// test pairs never appear in a request; packages/azr compares the returned values itself.

/** A Python value that crossed the sandbox boundary as plain data. Ints travel as decimal
 * strings (Python ints are unbounded), floats keep nan/inf, bytes travel as base64, dicts as
 * key/value pair lists (keys may be tuples), sets as element lists. */
export type PyValue =
  | { t: "none" }
  | { t: "bool"; v: boolean }
  | { t: "int"; v: string }
  | { t: "float"; v: number | "nan" | "inf" | "-inf" }
  | { t: "str"; v: string }
  | { t: "bytes"; v: string }
  | { t: "tuple"; v: PyValue[] }
  | { t: "list"; v: PyValue[] }
  | { t: "set"; v: PyValue[] }
  | { t: "frozenset"; v: PyValue[] }
  | { t: "dict"; v: [PyValue, PyValue][] };

export const pyValueSchema: z.ZodType<PyValue> = z.lazy(() =>
  z.discriminatedUnion("t", [
    z.object({ t: z.literal("none") }),
    z.object({ t: z.literal("bool"), v: z.boolean() }),
    z.object({ t: z.literal("int"), v: z.string().regex(/^-?\d+$/, "int must be a decimal string") }),
    z.object({ t: z.literal("float"), v: z.union([z.number(), z.enum(["nan", "inf", "-inf"])]) }),
    z.object({ t: z.literal("str"), v: z.string() }),
    z.object({ t: z.literal("bytes"), v: z.string() }),
    z.object({ t: z.literal("tuple"), v: z.array(pyValueSchema) }),
    z.object({ t: z.literal("list"), v: z.array(pyValueSchema) }),
    z.object({ t: z.literal("set"), v: z.array(pyValueSchema) }),
    z.object({ t: z.literal("frozenset"), v: z.array(pyValueSchema) }),
    z.object({ t: z.literal("dict"), v: z.array(z.tuple([pyValueSchema, pyValueSchema])) }),
  ]),
);

export const defRuleSchema = z.enum(["single-def", "top-level-f"]);
export type DefRule = z.infer<typeof defRuleSchema>;

export const bannedCheckSchema = z.enum(["strict", "reference"]);
export type BannedCheck = z.infer<typeof bannedCheckSchema>;

/** Static checks the caller asks for; the runner applies exactly these and nothing else. */
export const staticChecksSchema = z.object({
  /** `single-def`: exactly one `def` line anywhere (the reference's rule); `top-level-f`: a
   * top-level function (renamed to `f` if it has another name). */
  defRule: defRuleSchema.optional(),
  /** Rename the entry function (and its call sites) to `f`. */
  renameToF: z.boolean().default(false),
  bannedModules: z.array(z.string().min(1)).default([]),
  bannedCheck: bannedCheckSchema.default("strict"),
  /** Refuse programs that call `input(` (the reference executor's pre-check). */
  rejectInputCall: z.boolean().default(true),
});
export type StaticChecks = z.infer<typeof staticChecksSchema>;

export const execLimitsSchema = z.object({
  /** Wall-clock budget for the whole job (all calls), milliseconds. */
  timeoutMs: z.number().int().positive().max(120_000).default(10_000),
  /** Address-space limit of the job's child process, MiB. */
  memoryMb: z.number().int().positive().max(16_384).default(512),
  /** Captured stdout and stderr per job, bytes each. A program that writes more is stopped:
   * the job's status is `output-limit` and the captured text is truncated to this size. */
  maxOutputBytes: z.number().int().nonnegative().max(16 * 1024 * 1024).default(64 * 1024),
  /** Size of one serialised result value, bytes; larger values become a status. */
  maxValueBytes: z.number().int().positive().max(64 * 1024 * 1024).default(1024 * 1024),
});
export type ExecLimits = z.infer<typeof execLimitsSchema>;

export const argsModeSchema = z.enum(["expression", "literal"]);

export const checkRequestSchema = z.object({
  id: z.string().min(1),
  kind: z.literal("check"),
  program: z.string(),
  checks: staticChecksSchema,
});

export const runRequestSchema = z.object({
  id: z.string().min(1),
  kind: z.literal("run"),
  program: z.string(),
  /** Import lines prepended to the program before it runs. */
  imports: z.array(z.string()).default([]),
  /** Static checks applied before running; a failure is the job's status and nothing runs. */
  checks: staticChecksSchema.optional(),
  entry: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default("f"),
  /** Python argument lists, e.g. `'John', {'age': 20}`. `expression` evaluates them inside the
   * program's namespace (a proposer's own inputs); `literal` accepts only Python literals
   * (ast.literal_eval of the argument tuple: inputs written by a solver). */
  argsMode: argsModeSchema.default("expression"),
  calls: z.array(z.string()).max(1024),
  /** How many times `f` is called per argument list, in the same process (determinism check). */
  repeat: z.number().int().min(1).max(16).default(1),
  limits: execLimitsSchema.default(() => execLimitsSchema.parse({})),
});

export const execRequestSchema = z.discriminatedUnion("kind", [checkRequestSchema, runRequestSchema]);
export type CheckRequest = z.input<typeof checkRequestSchema>;
export type RunRequest = z.input<typeof runRequestSchema>;
export type ExecRequest = z.input<typeof execRequestSchema>;
export type ParsedExecRequest = z.output<typeof execRequestSchema>;

/** Job-level status. `ok` means the program loaded and every call was attempted; each call
 * still carries its own outcome (an exception in `f` is a call `error`, not a job error).
 * A job that ends early (`timeout`, `memory`, `output-limit`, or `error` when the program's
 * process dies, e.g. `os._exit` or a segfault, with `error.type` naming the signal) keeps the
 * outcomes of the calls that finished; the call that was running gets `timeout` or an `error`
 * outcome (`MemoryError` for `memory`), and the rest `not-run`. */
export const jobStatusSchema = z.enum([
  "ok",
  "error",
  "timeout",
  "memory",
  "output-limit",
  "banned-import",
  "syntax",
  "def-rule",
  "input-call",
  "sandbox-failure",
]);
export type JobStatus = z.infer<typeof jobStatusSchema>;

export const callOutcomeSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("ok"), value: pyValueSchema }),
  z.object({ status: z.literal("error"), errorType: z.string(), message: z.string() }),
  /** The returned object is not plain data (a class instance, a function...). */
  z.object({ status: z.literal("unserialisable"), typeName: z.string() }),
  z.object({ status: z.literal("value-too-large"), bytes: z.number().int() }),
  z.object({ status: z.literal("timeout") }),
  z.object({ status: z.literal("not-run") }),
]);
export type CallOutcome = z.infer<typeof callOutcomeSchema>;

export const execResultSchema = z.object({
  id: z.string(),
  status: jobStatusSchema,
  /** For job-level failures: the exception type (or check name) and a short message. */
  error: z.object({ type: z.string(), message: z.string() }).optional(),
  /** The program after static transforms (renamed to `f`), when checks ran. */
  program: z.string().optional(),
  /** calls[i][k] is the k-th repetition of the i-th argument list. */
  calls: z.array(z.array(callOutcomeSchema)).default([]),
  stdout: z.string().default(""),
  stderr: z.string().default(""),
  durationMs: z.number().nonnegative(),
});
export type ExecResult = z.infer<typeof execResultSchema>;
