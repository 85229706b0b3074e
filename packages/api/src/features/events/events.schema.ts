import { z } from "zod";
import { bigintIdSchema, limitSchema, runIdSchema } from "../common.ts";

const kinds = z.array(z.enum(["transition", "log", "system"])).min(1).max(3);

export const listEventsInput = z
  .object({
    runId: runIdSchema,
    /** Events after this id (exclusive), oldest first. */
    afterId: bigintIdSchema.optional(),
    kinds: kinds.optional(),
    limit: limitSchema(1000, 200),
  })
  .strict();

export const eventsSubscriptionInput = z
  .object({
    runId: runIdSchema,
    kinds: kinds.optional(),
    /** The last event id already received; tRPC sends it again on reconnect. */
    lastEventId: bigintIdSchema.nullish(),
  })
  .strict();
