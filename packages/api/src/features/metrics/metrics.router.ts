import { tracked } from "@trpc/server";
import { liveAuthCheck, readProcedure, router } from "../../trpc.ts";
import { assertRunsExist, loadRun } from "../common.ts";
import { downsample } from "./downsample.ts";
import { latest, metricKeys, pointsAfter } from "./metrics.handler.ts";
import { keysInput, latestInput, pointsInput, pointsSubscriptionInput, seriesInput } from "./metrics.schema.ts";

export const metricsRouter = router({
  series: readProcedure.input(seriesInput).query(async ({ ctx, input }) => {
    const series = await downsample(ctx.services.db.sql, input);
    // Existence is only checked when a run returned nothing: the common path is one statement.
    const seen = new Set(series.map((s) => s.runId));
    if (input.runIds.some((id) => !seen.has(id))) await assertRunsExist(ctx.services.db.prisma, input.runIds);
    return { series };
  }),
  latest: readProcedure.input(latestInput).query(async ({ ctx, input }) => {
    await assertRunsExist(ctx.services.db.prisma, input.runIds);
    return { values: await latest(ctx.services.db.sql, input) };
  }),
  keys: readProcedure.input(keysInput).query(async ({ ctx, input }) => {
    await assertRunsExist(ctx.services.db.prisma, input.runIds);
    return { keys: await metricKeys(ctx.services.db.sql, input.runIds) };
  }),
  /** Raw points at full resolution, grouped by step, for export. */
  points: readProcedure.input(pointsInput).query(async ({ ctx, input }) => {
    await loadRun(ctx.services.db.prisma, input.runId);
    const steps = await pointsAfter(ctx.services.db.sql, input.runId, input.afterStep, input.keys, input.limit);
    return { steps, nextAfterStep: steps.length ? steps[steps.length - 1]!.step : null };
  }),
  /** New metric points as they are written, one message per step. On reconnect the client's last
   * tracked id (a step) resumes the feed after that step: no gaps, no duplicates, provided a step's
   * points are committed together (the step loop writes them in one transaction). */
  onPoints: readProcedure.input(pointsSubscriptionInput).subscription(async function* ({ ctx, input, signal }) {
    await loadRun(ctx.services.db.prisma, input.runId);
    let cursor = input.lastEventId == null ? -1 : Number(input.lastEventId);
    const checkAuth = liveAuthCheck(ctx);
    while (!signal?.aborted) {
      await checkAuth();
      const steps = await pointsAfter(ctx.services.db.sql, input.runId, cursor, input.keys);
      for (const s of steps) {
        cursor = s.step;
        yield tracked(String(s.step), s);
      }
      if (steps.length === 0) await ctx.services.notifier.wait(input.runId, signal);
    }
  }),
});
