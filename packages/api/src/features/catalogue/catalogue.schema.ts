import { z } from "zod";
import { limitSchema, runIdSchema } from "../common.ts";

export const listWorkersInput = z
  .object({
    runId: runIdSchema.optional(),
    status: z.array(z.enum(["starting", "ready", "busy", "stopping", "exited", "lost"])).min(1).max(6).optional(),
    limit: limitSchema(500, 100),
  })
  .strict()
  .default({ limit: 100 });
