import { z } from "zod";
import { runIdSchema, uuid } from "../common.ts";

export const listCheckpointsInput = z.object({ runId: runIdSchema, includeDeleted: z.boolean().default(false) }).strict();
export const pinCheckpointInput = z.object({ id: uuid("checkpoint"), pinned: z.boolean().default(true) }).strict();
export const deleteCheckpointInput = z.object({ id: uuid("checkpoint") }).strict();
