import { evalSummaryDto, type EvalSummaryDto } from "../../dto.ts";
import { liveAuthCheck, readProcedure, router, writeProcedure } from "../../trpc.ts";
import { isEvalFinished } from "@azr/orchestrator";
import { TRPCError } from "@trpc/server";
import { cancelEval, compareEvals, getEval, listBenchmarks, listEvals, startEvals } from "./evals.handler.ts";
import { cancelEvalInput, compareEvalsInput, getEvalInput, listEvalsInput, startEvalInput, watchEvalsInput } from "./evals.schema.ts";

// Evaluations: benchmarks run on a checkpoint of a run or on a catalogue model, as eval jobs in
// the runs' pools (start, cancel), their scores and per-problem results (list, get), and two of
// them problem by problem (compare). Periodic evaluations of training runs show up here too.

export const evalsRouter = router({
  start: writeProcedure.input(startEvalInput).mutation(({ ctx, input }) => startEvals(ctx, input)),
  list: readProcedure.input(listEvalsInput).query(({ ctx, input }) => listEvals(ctx, input)),
  get: readProcedure.input(getEvalInput).query(({ ctx, input }) => getEval(ctx, input)),
  compare: readProcedure.input(compareEvalsInput).query(({ ctx, input }) => compareEvals(ctx, input)),
  cancel: writeProcedure.input(cancelEvalInput).mutation(({ ctx, input }) => cancelEval(ctx, input)),
  /** The benchmarks this server knows (built-in and the admin file's) and whether they have data. */
  benchmarks: readProcedure.query(({ ctx }) => listBenchmarks(ctx)),
  /**
   * Status and progress of evaluations, live: the current state of all of them first, then each
   * change (status, problems done); ends once every one has finished.
   */
  watch: readProcedure.input(watchEvalsInput).subscription(async function* ({ ctx, input, signal }) {
    const { prisma } = ctx.services.db;
    const ids = [...new Set(input.ids)];
    const checkAuth = liveAuthCheck(ctx);
    let last = "";
    while (!signal?.aborted) {
      await checkAuth();
      const rows = await prisma.evalResult.findMany({ where: { id: { in: ids } }, omit: { settings: true }, orderBy: { createdAt: "asc" } });
      if (rows.length < ids.length) {
        const have = new Set(rows.map((r) => r.id));
        throw new TRPCError({ code: "NOT_FOUND", message: `no evaluation with id ${ids.filter((id) => !have.has(id)).join(", ")}` });
      }
      const items: EvalSummaryDto[] = rows.map(evalSummaryDto);
      const key = JSON.stringify(items.map((e) => [e.id, e.status, e.problemsDone, e.problemsTotal]));
      if (key !== last) {
        last = key;
        yield { items };
      }
      if (rows.every((r) => isEvalFinished(r.status))) return;
      await Promise.race(ids.map((id) => ctx.services.notifier.wait(id, signal)));
    }
  }),
});
