import { fileURLToPath } from "node:url";
import { z } from "zod";

// Benchmarks are data: a definition names the file format, the scorer (by kind), the prompt
// templates and the decoding settings. Nothing is downloaded; a definition without `source`
// cannot be loaded until a user points it at a file or directory they already have.

export const BENCHMARK_KINDS = ["code", "math", "io"] as const;
export type BenchmarkKind = (typeof BENCHMARK_KINDS)[number];

export const BENCHMARK_FORMATS = ["evalplus", "livecodebench", "math-jsonl", "cruxeval"] as const;
export type BenchmarkFormat = (typeof BENCHMARK_FORMATS)[number];

/** The kind each format is scored as. */
export const FORMAT_KIND: Record<BenchmarkFormat, BenchmarkKind> = {
  evalplus: "code",
  livecodebench: "code",
  "math-jsonl": "math",
  cruxeval: "io",
};

/** Prompt templates by id (text in prompt.ts). `azr-*` wrap the task in the reference's
 * think/answer template for trained models; `base-*` ask a base model for a boxed (math) or
 * fenced (code, io) answer. */
export const PROMPT_TEMPLATE_IDS = ["azr-code", "azr-math", "azr-io", "base-code", "base-math", "base-io"] as const;
export type PromptTemplateId = (typeof PROMPT_TEMPLATE_IDS)[number];
export type TemplateStyle = "azr" | "base";

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/, "expected an ISO date such as 2024-08-01")
  .refine((s) => !Number.isNaN(Date.parse(s)), "not a valid date");

export const decodingSchema = z
  .object({
    /** 0 = greedy (the paper's protocol). */
    temperature: z.number().min(0).max(2),
    topP: z.number().gt(0).max(1),
    maxTokens: z.number().int().positive().max(131_072),
    /** Samples per problem; pass@k needs n ≥ k. Greedy decoding with n > 1 repeats one answer. */
    n: z.number().int().min(1).max(1024),
  })
  .strict();
export type Decoding = z.infer<typeof decodingSchema>;

export const benchmarkLimitsSchema = z
  .object({
    /** Per test case, as the benchmark defines it (EvalPlus: the minimum per-test limit, raised to
     * 4× the canonical solution's time; LiveCodeBench: per test; math: per equivalence check;
     * io: per program run). */
    timeoutMs: z.number().int().positive().max(60_000),
    /** Address-space limit of each sandboxed job, MiB. */
    memoryMb: z.number().int().positive().max(16_384),
  })
  .strict();
export type BenchmarkLimits = z.infer<typeof benchmarkLimitsSchema>;

export const benchmarkDefinitionSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "lower-case letters, digits and dashes"),
    title: z.string().min(1).max(200),
    kind: z.enum(BENCHMARK_KINDS),
    format: z.enum(BENCHMARK_FORMATS),
    /** A JSONL file, or a directory whose *.jsonl files are read in name order. */
    source: z.string().min(1).optional(),
    /** LiveCodeBench: keep problems whose contest_date lies in [from, to] (either end open). */
    dateWindow: z.object({ from: isoDate.optional(), to: isoDate.optional() }).strict().optional(),
    promptTemplates: z.object({ azr: z.enum(PROMPT_TEMPLATE_IDS), base: z.enum(PROMPT_TEMPLATE_IDS) }).strict(),
    decoding: decodingSchema,
    limits: benchmarkLimitsSchema,
    /** CruxEval: predict the input (`input`, CRUXEval-I) or the output (`output`, CRUXEval-O). */
    cruxevalMode: z.enum(["input", "output"]).optional(),
    /** EvalPlus: `plus` (base and plus tests must pass: the HumanEval+/MBPP+ score) or `base`. */
    evalplusTests: z.enum(["base", "plus"]).optional(),
    /** Stop after this many problems (file order); for smoke runs. */
    limit: z.number().int().positive().optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (FORMAT_KIND[d.format] !== d.kind) {
      ctx.addIssue({ code: "custom", path: ["kind"], message: `format ${d.format} is scored as ${FORMAT_KIND[d.format]}, not ${d.kind}` });
    }
    if (d.format === "cruxeval" && !d.cruxevalMode) {
      ctx.addIssue({ code: "custom", path: ["cruxevalMode"], message: "a cruxeval benchmark needs cruxevalMode input or output" });
    }
    if (d.format !== "cruxeval" && d.cruxevalMode) {
      ctx.addIssue({ code: "custom", path: ["cruxevalMode"], message: "only cruxeval benchmarks take cruxevalMode" });
    }
    if (d.dateWindow && d.format !== "livecodebench") {
      ctx.addIssue({ code: "custom", path: ["dateWindow"], message: "only livecodebench benchmarks take a date window" });
    }
    if (d.dateWindow?.from && d.dateWindow.to && Date.parse(d.dateWindow.from) > Date.parse(d.dateWindow.to)) {
      ctx.addIssue({ code: "custom", path: ["dateWindow"], message: "dateWindow.from is after dateWindow.to" });
    }
    if (d.evalplusTests && d.format !== "evalplus") {
      ctx.addIssue({ code: "custom", path: ["evalplusTests"], message: "only evalplus benchmarks take evalplusTests" });
    }
    for (const style of ["azr", "base"] as const) {
      const id = d.promptTemplates[style];
      if (!id.startsWith(`${style}-`) || !id.endsWith(`-${d.kind}`)) {
        ctx.addIssue({ code: "custom", path: ["promptTemplates", style], message: `expected the ${style}-${d.kind} template, got ${id}` });
      }
    }
  });
export type BenchmarkDefinition = z.infer<typeof benchmarkDefinitionSchema>;

// The paper's protocol (azr-spec §7): greedy decoding everywhere; code benchmarks as EvalPlus /
// lcb_runner run them (max_tokens 8096), math through the math-evaluation-harness fork (top_p
// 0.95, max_tokens 16000, one sample), CruxEval-style validation greedy with the training
// response budget (8096).
const CODE_DECODING: Decoding = { temperature: 0, topP: 1, maxTokens: 8096, n: 1 };
const MATH_DECODING: Decoding = { temperature: 0, topP: 0.95, maxTokens: 16_000, n: 1 };
const IO_DECODING: Decoding = { temperature: 0, topP: 1, maxTokens: 8096, n: 1 };

// EvalPlus: per-test limit max(1 s, 4 × the canonical solution's time), 4 GiB
// (DEFAULT_MIN_TIME_LIMIT, DEFAULT_GT_TIME_LIMIT_FACTOR, EVALPLUS_MAX_MEMORY_BYTES).
const EVALPLUS_LIMITS: BenchmarkLimits = { timeoutMs: 1000, memoryMb: 4096 };
// lcb_runner's run_test default: 6 s per test case.
const LCB_LIMITS: BenchmarkLimits = { timeoutMs: 6000, memoryMb: 4096 };
const MATH_LIMITS: BenchmarkLimits = { timeoutMs: 3000, memoryMb: 1024 };
// The AZR executor's 10 s per program run.
const IO_LIMITS: BenchmarkLimits = { timeoutMs: 10_000, memoryMb: 512 };

const CODE_TEMPLATES = { azr: "azr-code", base: "base-code" } as const;
const MATH_TEMPLATES = { azr: "azr-math", base: "base-math" } as const;
const IO_TEMPLATES = { azr: "azr-io", base: "base-io" } as const;

function code(name: string, title: string, format: "evalplus" | "livecodebench", extra: Partial<BenchmarkDefinition> = {}): BenchmarkDefinition {
  return {
    name,
    title,
    kind: "code",
    format,
    promptTemplates: CODE_TEMPLATES,
    decoding: CODE_DECODING,
    limits: format === "evalplus" ? EVALPLUS_LIMITS : LCB_LIMITS,
    ...(format === "evalplus" ? { evalplusTests: "plus" as const } : {}),
    ...extra,
  };
}

function math(name: string, title: string, extra: Partial<BenchmarkDefinition> = {}): BenchmarkDefinition {
  return { name, title, kind: "math", format: "math-jsonl", promptTemplates: MATH_TEMPLATES, decoding: MATH_DECODING, limits: MATH_LIMITS, ...extra };
}

function io(name: string, title: string, mode: "input" | "output", extra: Partial<BenchmarkDefinition> = {}): BenchmarkDefinition {
  return { name, title, kind: "io", format: "cruxeval", cruxevalMode: mode, promptTemplates: IO_TEMPLATES, decoding: IO_DECODING, limits: IO_LIMITS, ...extra };
}

/** Where the shipped fixtures live (small hand-written files in each real format). */
export const FIXTURES_DIR = fileURLToPath(new URL("../fixtures/", import.meta.url));

const PAPER_BENCHMARKS: BenchmarkDefinition[] = [
  code("humaneval-plus", "HumanEval+", "evalplus"),
  code("mbpp-plus", "MBPP+", "evalplus"),
  // The paper evaluates recent problems only; the exact window is the user's to set.
  code("livecodebench", "LiveCodeBench (code generation)", "livecodebench"),
  math("aime24", "AIME 2024"),
  math("aime25", "AIME 2025"),
  math("amc23", "AMC 2023"),
  math("math500", "MATH-500"),
  math("minerva", "Minerva Math"),
  math("olympiadbench", "OlympiadBench"),
  io("cruxeval-i", "CRUXEval-I (input prediction)", "input"),
  io("cruxeval-o", "CRUXEval-O (output prediction)", "output"),
];

const FIXTURE_BENCHMARKS: BenchmarkDefinition[] = [
  code("fixture-humaneval-plus", "Fixture: HumanEval+-style", "evalplus", { source: `${FIXTURES_DIR}humaneval-plus.jsonl` }),
  code("fixture-mbpp-plus", "Fixture: MBPP+-style", "evalplus", { source: `${FIXTURES_DIR}mbpp-plus.jsonl` }),
  code("fixture-livecodebench", "Fixture: LiveCodeBench-style", "livecodebench", {
    source: `${FIXTURES_DIR}livecodebench.jsonl`,
    dateWindow: { from: "2024-08-01", to: "2025-02-01" },
  }),
  math("fixture-math", "Fixture: math JSONL", { source: `${FIXTURES_DIR}math.jsonl` }),
  io("fixture-cruxeval-i", "Fixture: CruxEval-style input prediction", "input", { source: `${FIXTURES_DIR}cruxeval.jsonl` }),
  io("fixture-cruxeval-o", "Fixture: CruxEval-style output prediction", "output", { source: `${FIXTURES_DIR}cruxeval.jsonl` }),
];

/** The paper's benchmark set (no source: users point them at their files) and the `fixture-*`
 * variants on the shipped fixtures, for tests and the demo. */
export const BUILTIN_BENCHMARKS: readonly BenchmarkDefinition[] = Object.freeze(
  [...PAPER_BENCHMARKS, ...FIXTURE_BENCHMARKS].map((d) => Object.freeze(benchmarkDefinitionSchema.parse(d))),
);

export class BenchmarkDefinitionError extends Error {
  override name = "BenchmarkDefinitionError";
}

/** What a user may change about a benchmark (admin config or API). */
export const benchmarkOverridesSchema = z
  .object({
    source: z.string().min(1).optional(),
    title: z.string().min(1).max(200).optional(),
    dateWindow: z.object({ from: isoDate.optional(), to: isoDate.optional() }).strict().optional(),
    promptTemplates: z.object({ azr: z.enum(PROMPT_TEMPLATE_IDS).optional(), base: z.enum(PROMPT_TEMPLATE_IDS).optional() }).strict().optional(),
    decoding: decodingSchema.partial().optional(),
    limits: benchmarkLimitsSchema.partial().optional(),
    evalplusTests: z.enum(["base", "plus"]).optional(),
    limit: z.number().int().positive().optional(),
  })
  .strict();
export type BenchmarkOverrides = z.input<typeof benchmarkOverridesSchema>;

function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") : "definition"}: ${i.message}`).join("; ");
}

export function findBenchmark(name: string): BenchmarkDefinition | undefined {
  return BUILTIN_BENCHMARKS.find((b) => b.name === name);
}

/**
 * A built-in benchmark (by name) or a whole user definition, with validated overrides merged in.
 * Throws BenchmarkDefinitionError naming the field on any invalid input.
 */
export function resolveBenchmark(nameOrDefinition: string | unknown, overrides: unknown = {}): BenchmarkDefinition {
  let base: unknown;
  if (typeof nameOrDefinition === "string") {
    base = findBenchmark(nameOrDefinition);
    if (!base) {
      throw new BenchmarkDefinitionError(`unknown benchmark ${JSON.stringify(nameOrDefinition)}; known: ${BUILTIN_BENCHMARKS.map((b) => b.name).join(", ")}`);
    }
  } else {
    base = nameOrDefinition;
  }
  const o = benchmarkOverridesSchema.safeParse(overrides ?? {});
  if (!o.success) throw new BenchmarkDefinitionError(`invalid benchmark overrides: ${issuesText(o.error)}`);
  const b = base as Partial<BenchmarkDefinition>;
  const merged = {
    ...b,
    ...Object.fromEntries(Object.entries(o.data).filter(([, v]) => v !== undefined)),
    promptTemplates: { ...b.promptTemplates, ...o.data.promptTemplates },
    decoding: { ...b.decoding, ...o.data.decoding },
    limits: { ...b.limits, ...o.data.limits },
  };
  const r = benchmarkDefinitionSchema.safeParse(merged);
  if (!r.success) throw new BenchmarkDefinitionError(`invalid benchmark definition: ${issuesText(r.error)}`);
  return r.data;
}
