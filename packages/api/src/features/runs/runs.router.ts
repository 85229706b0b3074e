import { readProcedure, router, writeProcedure } from "../../trpc.ts";
import { archiveRun, cancelRun, createRun, deleteRun, forkRun, getRun, listRuns, resumeRun, updateRun } from "./runs.handler.ts";
import { archiveRunInput, cancelRunInput, createRunInput, forkRunInput, listRunsInput, runIdInput, updateRunInput } from "./runs.schema.ts";

export const runsRouter = router({
  create: writeProcedure.input(createRunInput).mutation(({ ctx, input }) => createRun(ctx, input)),
  list: readProcedure.input(listRunsInput).query(({ ctx, input }) => listRuns(ctx, input)),
  get: readProcedure.input(runIdInput).query(({ ctx, input }) => getRun(ctx, input.id)),
  cancel: writeProcedure.input(cancelRunInput).mutation(({ ctx, input }) => cancelRun(ctx, input)),
  resume: writeProcedure.input(runIdInput).mutation(({ ctx, input }) => resumeRun(ctx, input.id)),
  fork: writeProcedure.input(forkRunInput).mutation(({ ctx, input }) => forkRun(ctx, input)),
  update: writeProcedure.input(updateRunInput).mutation(({ ctx, input }) => updateRun(ctx, input)),
  archive: writeProcedure.input(archiveRunInput).mutation(({ ctx, input }) => archiveRun(ctx, input)),
  delete: writeProcedure.input(runIdInput).mutation(({ ctx, input }) => deleteRun(ctx, input.id)),
});
