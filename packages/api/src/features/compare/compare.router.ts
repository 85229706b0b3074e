import { readProcedure, router } from "../../trpc.ts";
import { assertRunsExist } from "../common.ts";
import { compareRuns } from "./compare.handler.ts";
import { compareInput } from "./compare.schema.ts";

export const compareRouter = router({
  runs: readProcedure.input(compareInput).query(async ({ ctx, input }) => {
    await assertRunsExist(ctx.services.db.prisma, input.runIds);
    return compareRuns(ctx.services.db, input);
  }),
});
