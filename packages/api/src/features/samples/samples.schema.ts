import { z } from "zod";
import { bigintIdSchema, limitSchema, ROLES, runIdSchema, TASK_TYPES } from "../common.ts";

const stepRange = {
  stepFrom: z.number().int().min(0).optional(),
  stepTo: z.number().int().min(0).optional(),
};
const search = z.string().min(3, "search needs at least 3 characters (trigram index)").max(200).optional();

export const rolloutsInput = z
  .object({
    runId: runIdSchema,
    taskType: z.array(z.enum(TASK_TYPES)).min(1).max(3).optional(),
    role: z.enum(ROLES).optional(),
    purpose: z.enum(["train", "learnability"]).optional(),
    ...stepRange,
    valid: z.boolean().optional(),
    executorStatus: z.string().min(1).max(64).optional(),
    rewardMin: z.number().finite().optional(),
    rewardMax: z.number().finite().optional(),
    /** Case-insensitive substring of the response. */
    search,
    order: z.enum(["asc", "desc"]).default("desc"),
    limit: limitSchema(200, 50),
    /** The `nextCursor` of the previous page. */
    cursor: bigintIdSchema.optional(),
  })
  .strict()
  .refine((v) => v.stepFrom === undefined || v.stepTo === undefined || v.stepFrom <= v.stepTo, { path: ["stepTo"], message: "must not be below stepFrom" })
  .refine((v) => v.rewardMin === undefined || v.rewardMax === undefined || v.rewardMin <= v.rewardMax, { path: ["rewardMax"], message: "must not be below rewardMin" });

export const bufferInput = z
  .object({
    runId: runIdSchema,
    taskType: z.array(z.enum(TASK_TYPES)).min(1).max(3).optional(),
    origin: z.enum(["seed", "proposed", "imported"]).optional(),
    ...stepRange,
    /** Case-insensitive substring of the program. */
    search,
    order: z.enum(["asc", "desc"]).default("desc"),
    limit: limitSchema(200, 50),
    cursor: bigintIdSchema.optional(),
  })
  .strict()
  .refine((v) => v.stepFrom === undefined || v.stepTo === undefined || v.stepFrom <= v.stepTo, { path: ["stepTo"], message: "must not be below stepFrom" });
