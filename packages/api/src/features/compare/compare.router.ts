import { readProcedure, router } from "../../trpc.ts";
import { compareRuns } from "./compare.handler.ts";
import { compareInput } from "./compare.schema.ts";

export const compareRouter = router({
  runs: readProcedure.input(compareInput).query(({ ctx, input }) => compareRuns(ctx.services.db, input)),
});
