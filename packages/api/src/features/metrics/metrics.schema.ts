import { z } from "zod";
import { metricKeySchema, runIdSchema } from "../common.ts";

export const seriesInput = z
  .object({
    runIds: z.array(runIdSchema).min(1).max(20),
    keys: z.array(metricKeySchema).min(1).max(50),
    /** x axis: the step index, or wall time in epoch milliseconds. */
    axis: z.enum(["step", "time"]).default("step"),
    /** Buckets per series; a series with fewer points comes back whole. */
    points: z.number().int().min(2).max(5000).default(500),
    /** Inclusive x range (steps, or epoch ms); defaults to each series' own extent. */
    from: z.number().finite().optional(),
    to: z.number().finite().optional(),
  })
  .strict()
  .refine((v) => v.from === undefined || v.to === undefined || v.from <= v.to, { path: ["to"], message: "must not be below from" });

export const latestInput = z.object({ runIds: z.array(runIdSchema).min(1).max(500), keys: z.array(metricKeySchema).max(200).optional() }).strict();

export const keysInput = z.object({ runIds: z.array(runIdSchema).min(1).max(500) }).strict();

export const pointsSubscriptionInput = z
  .object({
    runId: runIdSchema,
    keys: z.array(metricKeySchema).max(200).optional(),
    /** The last step already received (tRPC fills it in on reconnect from the tracked id). */
    lastEventId: z.string().regex(/^-?\d{1,10}$/, "must be a step number").nullish(),
  })
  .strict();

export const pointsInput = z
  .object({
    runId: runIdSchema,
    keys: z.array(metricKeySchema).max(200).optional(),
    /** Steps after this one (exclusive); pages on by the returned `nextAfterStep`. */
    afterStep: z.number().int().min(-1).default(-1),
    /** Rows (step × key) per page, at most. */
    limit: z.number().int().min(1).max(20_000).default(5000),
  })
  .strict();
