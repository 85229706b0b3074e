import { z } from "zod";
import { metricKeySchema, runIdSchema } from "../common.ts";

export const compareInput = z
  .object({
    runIds: z
      .array(runIdSchema)
      .min(2, "compare needs at least 2 runs")
      .max(10)
      .refine((ids) => new Set(ids).size === ids.length, "runs must not repeat"),
    /** Metrics for the summary table and the aligned series; none: config diff only. */
    keys: z.array(metricKeySchema).max(20).default([]),
    points: z.number().int().min(2).max(2000).default(200),
    /** Leave out the aligned series (the CLI only needs the table). */
    series: z.boolean().default(true),
  })
  .strict();
