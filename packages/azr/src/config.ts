import { z } from "zod";
import { bannedCheckSchema, defRuleSchema } from "@azr/protocol";
import { importInductionSeeds, importTripletSeeds, seedImportErrorText } from "./buffers.ts";
import { TASK_TYPES } from "./types.ts";
import { DEFAULT_TEMPLATE_VERSION, TEMPLATE_NAMES, TEMPLATE_VERSIONS, missingPlaceholders, type TemplateName } from "./prompts.ts";

// The run config: every hyperparameter of azr-spec §5 with the reference's defaults, and every
// switch of §9 with the project's default. Nested sections use `prefault` so a partial section
// still gets the defaults of the fields it leaves out.

/** The reference's `banned_words` (it lists datetime twice). The dotted entries never match an
 * import in `reference` mode; `strict` mode matches them as module paths. */
export const REFERENCE_BANNED_MODULES = [
  "logging",
  "random",
  "multiprocessing",
  "pebble",
  "subprocess",
  "threading",
  "datetime",
  "time",
  "hashlib",
  "hmac",
  "bcrypt",
  "os.sys",
  "os.path",
  "sys.exit",
  "os.environ",
  "calendar",
] as const;

const int = () => z.number().int();

/** Where a fresh run's buffers come from (azr.seedSource). */
export const SEED_SOURCES = ["identity", "generate", "import"] as const;
export type SeedSource = (typeof SEED_SOURCES)[number];

export const taskTypeSchema = z.enum(TASK_TYPES);

const templateOverridesSchema = z
  .object(Object.fromEntries(TEMPLATE_NAMES.map((n) => [n, z.string().min(1).optional()])) as Record<TemplateName, z.ZodOptional<z.ZodString>>)
  .strict()
  .superRefine((overrides, ctx) => {
    for (const name of TEMPLATE_NAMES) {
      const t = overrides[name];
      if (t === undefined) continue;
      const missing = missingPlaceholders(name, t);
      if (missing.length > 0) {
        ctx.addIssue({ code: "custom", path: [name], message: `template must contain ${missing.map((m) => `{{${m}}}`).join(", ")}` });
      }
    }
  });

export const azrConfigSchema = z
  .object({
    /** Task types in the order a step runs them (the reference: abduction, deduction, induction). */
    taskTypes: z
      .array(taskTypeSchema)
      .min(1)
      .default([...TASK_TYPES])
      .refine((a) => new Set(a).size === a.length, "task types must not repeat"),
    /** Trajectories per (task type × role) group: train_batch_size. */
    batchSize: int().min(1).max(4096).default(64),
    /** Solver attempts per valid proposal for the learnability reward: n_samples. */
    learnabilitySamples: int().min(1).max(64).default(8),
    /** Reference examples in a proposer prompt: io_n (K). */
    references: int().min(0).max(64).default(6),
    /** Inputs per induction proposal; half (rounded down) are shown, the rest are hidden tests. */
    inductionInputs: int().min(2).max(64).default(10),
    /** `uniform`, or `recency`: reference weight step + 1 (the reference's 'step' strategy). */
    referenceSampling: z.enum(["uniform", "recency"]).default("uniform"),
    /** Solver tasks come first from entries added within this many steps (past_epoch_window). */
    solverRecencyWindow: int().min(0).default(1),
    /** Buffer size cap (max_programs); beyond it new entries are dropped, keeping the oldest. */
    maxPrograms: int().min(1).default(16384),
    /** Proposer prompts longer than this many tokens are resampled (content_max_length). */
    proposerPromptMaxTokens: int().min(1).default(8096),
    /** How often a too-long proposer prompt is resampled before references are dropped. */
    promptResampleAttempts: int().min(0).max(100).default(8),
    /** The seeding stage grows batchSize × seedBatchFactor seeds of each kind. */
    seedBatchFactor: int().min(1).default(4),
    /** Where a fresh run's buffers start (resumes and forks keep their checkpoint's). */
    seedSource: z
      .enum(SEED_SOURCES)
      .default("identity")
      .describe(
        "identity: the reference's built-in identity seeds (one triplet, one induction task); " +
          "generate: the seeding stage, where the policy proposes batchSize × seedBatchFactor triplet and induction seeds before step 1 (azr-spec §4); " +
          "import: seed files in the reference's JSONL formats (seedTripletsFile / seedInductionFile under the server's seed directory, or the inline seedTripletsJsonl / seedInductionJsonl)",
      ),
    /** seedSource generate: proposer batches per part before the run fails short of its seeds. */
    seedMaxRounds: int().min(1).max(100_000).default(50),
    /** seedSource import: a `<model>_seed_io.jsonl` file, relative to the server's seed directory. */
    seedTripletsFile: z.string().optional(),
    /** seedSource import: a `<model>_code_f_seed_io.jsonl` file, relative to the server's seed directory. */
    seedInductionFile: z.string().optional(),
    /** seedSource import: `<model>_seed_io.jsonl` rows given in the config itself. */
    seedTripletsJsonl: z.string().optional(),
    /** seedSource import: `<model>_code_f_seed_io.jsonl` rows given in the config itself. */
    seedInductionJsonl: z.string().optional(),
    rewardMode: z.enum(["paper", "reference"]).default("paper"),
    advantageStats: z.enum(["sequence", "token"]).default("sequence"),
    defRule: defRuleSchema.default("single-def"),
    bannedCheck: bannedCheckSchema.default("strict"),
    bannedModules: z.array(z.string().min(1)).default([...REFERENCE_BANNED_MODULES]),
    /** A proposal whose gold output repr is longer than this is invalid (no truncation). */
    maxOutputChars: int().min(1).default(4000),
    inductionReward: z.enum(["binary", "accuracy"]).default("binary"),
  })
  .strict()
  .superRefine(checkSeedImport);

/** Seed file paths name files under the server's seed directory: relative, no `..`. */
const SEED_FILE_PATH = /^(?!.*(?:^|\/)\.{1,2}(?:\/|$))[\w.-]+(?:\/[\w.-]+)*$/;

interface SeedFields {
  seedSource: SeedSource;
  seedTripletsFile?: string;
  seedInductionFile?: string;
  seedTripletsJsonl?: string;
  seedInductionJsonl?: string;
}

/** An empty field counts as not given (the launch form sends "" for a cleared field). */
export function givenSeedField(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== "" ? v : undefined;
}

function checkSeedImport(azr: SeedFields, ctx: z.RefinementCtx): void {
  const fields = ["seedTripletsFile", "seedInductionFile", "seedTripletsJsonl", "seedInductionJsonl"] as const;
  if (azr.seedSource !== "import") {
    for (const f of fields) {
      if (givenSeedField(azr[f]) !== undefined) ctx.addIssue({ code: "custom", path: [f], message: `is read only when seedSource is 'import' (it is '${azr.seedSource}')` });
    }
    return;
  }
  const given = (f: (typeof fields)[number]) => givenSeedField(azr[f]) !== undefined;
  if (!fields.some(given)) {
    ctx.addIssue({ code: "custom", path: ["seedSource"], message: "'import' needs seedTripletsFile, seedInductionFile, seedTripletsJsonl or seedInductionJsonl" });
  }
  for (const [file, inline] of [["seedTripletsFile", "seedTripletsJsonl"], ["seedInductionFile", "seedInductionJsonl"]] as const) {
    if (given(file) && given(inline)) ctx.addIssue({ code: "custom", path: [inline], message: `give ${file} or ${inline}, not both` });
    const p = givenSeedField(azr[file]);
    if (p !== undefined && !SEED_FILE_PATH.test(p)) {
      ctx.addIssue({ code: "custom", path: [file], message: "must be a relative path under the server's seed directory (letters, digits, '.', '_', '-', '/'; no '..')" });
    }
  }
  // Inline rows are checked here, so a malformed line is refused when the run is created.
  for (const [f, parse] of [["seedTripletsJsonl", importTripletSeeds], ["seedInductionJsonl", importInductionSeeds]] as const) {
    const text = givenSeedField(azr[f]);
    if (text === undefined) continue;
    const { errors } = parse(text);
    if (errors.length) ctx.addIssue({ code: "custom", path: [f], message: seedImportErrorText(errors) });
  }
}

export const samplingConfigSchema = z
  .object({
    temperature: z.number().min(0).max(10).default(1.0),
    topP: z.number().gt(0).max(1).default(1.0),
    topK: int().min(-1).default(-1),
    maxPromptLength: int().min(1).default(6144),
    maxResponseLength: int().min(1).default(8096),
    validationTemperature: z.number().min(0).default(0),
  })
  .strict();

export const optimConfigSchema = z
  .object({
    lr: z.number().positive().default(1e-6),
    weightDecay: z.number().min(0).default(0),
    warmupSteps: int().min(0).default(0),
    miniBatchSize: int().min(1).default(128),
    ppoEpochs: int().min(1).default(1),
    clipRatio: z.number().positive().default(0.2),
    clipRatioLow: z.number().positive().default(0.2),
    clipRatioHigh: z.number().positive().default(0.28),
    dualClipC: z.number().gt(1).default(3.0),
    gradClip: z.number().positive().default(1.0),
    lossAggMode: z.enum(["token-mean", "seq-mean-token-sum", "seq-mean-token-mean"]).default("token-mean"),
    klCoef: z.number().min(0).default(0),
    entropyCoef: z.number().min(0).default(0),
  })
  .strict();

export const scheduleConfigSchema = z
  .object({
    /** The reference runs 30 epochs of a dummy loader; the paper reports a few hundred steps. */
    totalSteps: int().min(1).default(500),
    checkpointInterval: int().min(1).default(10),
    validationInterval: int().min(0).default(10),
  })
  .strict();

export const executorConfigSchema = z
  .object({
    timeoutMs: int().positive().max(120_000).default(10_000),
    memoryMb: int().positive().max(16_384).default(512),
  })
  .strict();

export const modelConfigSchema = z
  .object({
    name: z.string().min(1).default("Qwen/Qwen2.5-Coder-7B"),
    backend: z.enum(["tiny", "hf", "vllm"]).default("vllm"),
    gpus: int().min(0).default(4),
    tensorParallel: int().min(1).default(2),
    sequenceParallel: int().min(1).default(4),
    gpuMemoryUtilization: z.number().gt(0).max(1).default(0.4),
  })
  .strict();

export const promptsConfigSchema = z
  .object({
    version: z.enum(Object.keys(TEMPLATE_VERSIONS) as [keyof typeof TEMPLATE_VERSIONS]).default(DEFAULT_TEMPLATE_VERSION),
    overrides: templateOverridesSchema.prefault({}),
  })
  .strict();

/** Evaluation during training: every `every` steps the run's own worker answers the benchmarks
 * (greedy, the benchmark's template for trained models) and the scores become metrics of the run
 * (`eval/<benchmark>/pass@1`, ...). Off by default. */
export const evalConfigSchema = z
  .object({
    /** Evaluate after every this many steps; 0 = never. */
    every: int().min(0).default(0),
    /** Benchmark names, as `azr eval --bench` takes them. */
    benchmarks: z
      .array(z.string().min(1).max(100))
      .max(16)
      .default([])
      .refine((a) => new Set(a).size === a.length, "benchmarks must not repeat"),
    /** The first this many problems of each benchmark; 0 = all. Keeps periodic evaluation cheap. */
    limit: int().min(0).default(0),
    /** Generation budget per answer; unset: the benchmark's own. */
    maxTokens: int().min(1).max(65536).optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.every > 0 && e.benchmarks.length === 0) ctx.addIssue({ code: "custom", path: ["benchmarks"], message: "name at least one benchmark when eval.every is set" });
  });

export const runConfigSchema = z
  .object({
    seed: int().min(0).max(0xffffffff).default(0),
    azr: azrConfigSchema.prefault({}),
    sampling: samplingConfigSchema.prefault({}),
    optim: optimConfigSchema.prefault({}),
    schedule: scheduleConfigSchema.prefault({}),
    executor: executorConfigSchema.prefault({}),
    model: modelConfigSchema.prefault({}),
    prompts: promptsConfigSchema.prefault({}),
    eval: evalConfigSchema.prefault({}),
  })
  .strict();

export type RunConfig = z.output<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;
export type AzrConfig = RunConfig["azr"];
export type EvalConfig = RunConfig["eval"];

type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
export type RunConfigOverrides = DeepPartial<RunConfigInput>;

const QWEN_COMMON = {
  azr: { proposerPromptMaxTokens: 5600 },
  model: { backend: "vllm", tensorParallel: 2, sequenceParallel: 4, gpuMemoryUtilization: 0.4 },
} as const satisfies RunConfigOverrides;

/** Presets: `tiny-cpu` for tests and the demo, the others as in the reference's self-play scripts
 * (they differ in the model and the GPU count; everything else is the reference default). */
export const PRESETS = {
  "tiny-cpu": {
    azr: { batchSize: 4, learnabilitySamples: 2, references: 2, inductionInputs: 4, proposerPromptMaxTokens: 1536, maxPrograms: 1024 },
    sampling: { maxPromptLength: 2048, maxResponseLength: 256 },
    optim: { lr: 1e-4, miniBatchSize: 8 },
    schedule: { totalSteps: 3, checkpointInterval: 1, validationInterval: 0 },
    executor: { timeoutMs: 5_000, memoryMb: 256 },
    model: { name: "tiny", backend: "tiny", gpus: 0, tensorParallel: 1, sequenceParallel: 1, gpuMemoryUtilization: 0.4 },
  },
  "qwen2.5-3b-coder": deepMerge(QWEN_COMMON, { model: { name: "Qwen/Qwen2.5-Coder-3B", gpus: 2 } }),
  "qwen2.5-7b-coder": deepMerge(QWEN_COMMON, { model: { name: "Qwen/Qwen2.5-Coder-7B", gpus: 4 } }),
  "qwen2.5-7b": deepMerge(QWEN_COMMON, { model: { name: "Qwen/Qwen2.5-7B", gpus: 4 } }),
  "qwen2.5-14b-coder": deepMerge(QWEN_COMMON, { model: { name: "Qwen/Qwen2.5-Coder-14B", gpus: 8 } }),
} as const satisfies Record<string, RunConfigOverrides>;
export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; arrays and scalars in `over` replace those in `base`. */
export function deepMerge<A, B>(base: A, over: B): A & B {
  if (!isPlainObject(base) || !isPlainObject(over)) return (over === undefined ? base : over) as A & B;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out as A & B;
}

export type ConfigResult = { ok: true; config: RunConfig } | { ok: false; errors: string[] };

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
}

/** Validates a run config (optionally on top of a preset); errors name the field, e.g.
 * `azr.batchSize: Too small: expected number to be >=1`. */
export function parseRunConfig(input: unknown, preset?: PresetName): ConfigResult {
  if (preset !== undefined && !(preset in PRESETS)) return { ok: false, errors: [`preset: unknown preset '${String(preset)}'`] };
  const merged = preset === undefined ? input : deepMerge(PRESETS[preset], input ?? {});
  const r = runConfigSchema.safeParse(merged ?? {});
  return r.success ? { ok: true, config: r.data } : { ok: false, errors: formatIssues(r.error.issues) };
}

export function defaultRunConfig(preset?: PresetName): RunConfig {
  const r = parseRunConfig({}, preset);
  if (!r.ok) throw new Error(`built-in preset is invalid: ${r.errors.join("; ")}`);
  return r.config;
}
