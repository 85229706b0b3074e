import { PRESET_NAMES, type PresetName } from "@azr/azr";
import { z } from "zod";
import { limitSchema, RUN_STATUS_VALUES, runIdSchema, tagSchema, uuid } from "../common.ts";

const runName = z.string().trim().min(1, "must not be empty").max(200);
const poolName = z.string().min(1).max(63);
/** Overrides of the run config (packages/azr validates the merged result and names the field). */
const configOverrides = z.record(z.string(), z.unknown());

export const createRunInput = z
  .object({
    name: runName.optional(),
    preset: z.enum(PRESET_NAMES as [PresetName, ...PresetName[]], { error: `must be one of ${PRESET_NAMES.join(", ")}` }).optional(),
    config: configOverrides.optional(),
    pool: poolName.optional(),
    tags: z.array(tagSchema).max(32).default([]),
    notes: z.string().max(10_000).default(""),
    priority: z.number().int().min(-100).max(100).default(0),
  })
  .strict();

export const listRunsInput = z
  .object({
    status: z.array(z.enum(RUN_STATUS_VALUES)).max(8).optional(),
    tag: tagSchema.optional(),
    /** Case-insensitive substring of the run name. */
    name: z.string().min(1).max(200).optional(),
    /** The owner's user name. */
    owner: z.string().min(1).max(200).optional(),
    pool: poolName.optional(),
    archived: z.boolean().default(false),
    sort: z.enum(["createdAt", "updatedAt", "name", "status"]).default("createdAt"),
    order: z.enum(["asc", "desc"]).default("desc"),
    limit: limitSchema(200, 50),
    cursor: runIdSchema.optional(),
  })
  .strict()
  .default({ archived: false, sort: "createdAt", order: "desc", limit: 50 });

export const runIdInput = z.object({ id: runIdSchema }).strict();

export const cancelRunInput = z.object({ id: runIdSchema, reason: z.string().min(1).max(500).optional() }).strict();

export const forkRunInput = z
  .object({
    id: runIdSchema,
    /** The checkpoint to start from; or `fromStep`: the newest checkpoint at or before that step. */
    checkpointId: uuid("checkpoint").optional(),
    fromStep: z.number().int().min(0).optional(),
    name: runName.optional(),
    config: configOverrides.optional(),
    pool: poolName.optional(),
    tags: z.array(tagSchema).max(32).optional(),
  })
  .strict()
  .refine((v) => v.checkpointId !== undefined || v.fromStep !== undefined, { path: ["checkpointId"], message: "give checkpointId or fromStep" });

export const updateRunInput = z
  .object({
    id: runIdSchema,
    name: runName.optional(),
    tags: z.array(tagSchema).max(32).optional(),
    notes: z.string().max(10_000).optional(),
  })
  .strict();

export const archiveRunInput = z.object({ id: runIdSchema, archived: z.boolean().default(true) }).strict();
