import { readProcedure, router } from "../../trpc.ts";
import { loadRun } from "../common.ts";
import { listBuffer, listRollouts } from "./samples.handler.ts";
import { bufferInput, rolloutsInput } from "./samples.schema.ts";

export const samplesRouter = router({
  rollouts: readProcedure.input(rolloutsInput).query(async ({ ctx, input }) => {
    await loadRun(ctx.services.db.prisma, input.runId);
    return listRollouts(ctx.services.db, input);
  }),
  buffer: readProcedure.input(bufferInput).query(async ({ ctx, input }) => {
    await loadRun(ctx.services.db.prisma, input.runId);
    return listBuffer(ctx.services.db, input);
  }),
});
