import { benchmarkOverridesSchema } from "@azr/eval";
import { z } from "zod";
import { limitSchema, runIdSchema, uuid } from "../common.ts";

export const evalIdSchema = uuid("evaluation");
export const benchmarkNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "must be a benchmark name (lower-case letters, digits and dashes)");
export const EVAL_STATUS_VALUES = ["queued", "running", "completed", "failed", "cancelled"] as const;
export const COMPARE_CATEGORIES = ["a-only", "b-only", "both", "neither"] as const;

export const startEvalInput = z
  .object({
    /** Evaluate a checkpoint of this run (its newest unless `step` or `checkpointId` says which)... */
    runId: runIdSchema.optional(),
    /** ...the run's checkpoint at this step... */
    step: z.number().int().min(0).optional(),
    /** ...or this checkpoint of the run. */
    checkpointId: uuid("checkpoint").optional(),
    /** Or a base model from the model catalogue. */
    model: z.string().min(1).max(63).optional(),
    benchmarks: z
      .array(benchmarkNameSchema)
      .min(1, "name at least one benchmark")
      .max(16)
      .refine((a) => new Set(a).size === a.length, "benchmarks must not repeat"),
    /** Applied to every benchmark: decoding (temperature, topP, maxTokens, n), limits, the first
     * `limit` problems, a LiveCodeBench date window, `source` (admins only: a file on the server). */
    overrides: benchmarkOverridesSchema.optional(),
    /** The prompt template: `azr` (think/answer; default for checkpoints) or `base` (boxed /
     * fenced; default for catalogue models). */
    template: z.enum(["azr", "base"]).optional(),
    /** Default: the run's pool, else the first configured pool. */
    pool: z.string().min(1).max(63).optional(),
    priority: z.number().int().min(-100).max(100).default(0),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.runId === undefined) === (v.model === undefined)) ctx.addIssue({ code: "custom", path: ["runId"], message: "give runId (a run's checkpoint) or model (a catalogue model), not both" });
    if (v.model !== undefined && (v.step !== undefined || v.checkpointId !== undefined)) ctx.addIssue({ code: "custom", path: ["step"], message: "step and checkpointId select a run's checkpoint; a catalogue model has none" });
    if (v.step !== undefined && v.checkpointId !== undefined) ctx.addIssue({ code: "custom", path: ["checkpointId"], message: "give step or checkpointId, not both" });
  });

export const listEvalsInput = z
  .object({
    runId: runIdSchema.optional(),
    /** Several runs at once (the runs list's evaluation columns). */
    runIds: z.array(runIdSchema).min(1).max(200).optional(),
    benchmark: benchmarkNameSchema.optional(),
    model: z.string().min(1).max(63).optional(),
    status: z.array(z.enum(EVAL_STATUS_VALUES)).min(1).max(5).optional(),
    origin: z.enum(["user", "periodic"]).optional(),
    jobId: uuid("eval job").optional(),
    limit: limitSchema(500, 50),
    cursor: evalIdSchema.optional(),
  })
  .strict()
  .default({ limit: 50 });

export const getEvalInput = z
  .object({
    id: evalIdSchema,
    /** Per-problem results, a page at a time in benchmark order. */
    limit: limitSchema(500, 50),
    /** The page after this problem position (the previous page's `nextAfterIndex`). */
    afterIndex: z.number().int().min(-1).default(-1),
    /** Only solved (true) or unsolved (false) problems. */
    solved: z.boolean().optional(),
  })
  .strict();

export const compareEvalsInput = z
  .object({
    a: evalIdSchema,
    b: evalIdSchema,
    /** Which problems to list: solved by A only, by B only, by both, by neither (default: all). */
    category: z.enum(COMPARE_CATEGORIES).optional(),
    limit: limitSchema(500, 50),
    /** The page after this problem position in A (the previous page's `nextAfterIndex`). */
    afterIndex: z.number().int().min(-1).default(-1),
  })
  .strict()
  .refine((v) => v.a !== v.b, { path: ["b"], message: "compare two different evaluations" });

export const cancelEvalInput = z.object({ id: evalIdSchema, reason: z.string().min(1).max(500).optional() }).strict();

export const watchEvalsInput = z.object({ ids: z.array(evalIdSchema).min(1).max(50) }).strict();
