import { tracked } from "@trpc/server";
import type { PrismaClient, RunEventKind } from "@azr/db";
import { eventDto, type RunEventDto } from "../../dto.ts";
import { liveAuthCheck, readProcedure, router } from "../../trpc.ts";
import { loadRun } from "../common.ts";
import { eventsSubscriptionInput, listEventsInput } from "./events.schema.ts";

async function eventsAfter(prisma: PrismaClient, runId: string, afterId: bigint, kinds: RunEventKind[] | undefined, limit: number): Promise<RunEventDto[]> {
  const rows = await prisma.runEvent.findMany({
    where: { runId, id: { gt: afterId }, ...(kinds ? { kind: { in: kinds } } : {}) },
    orderBy: { id: "asc" },
    take: limit,
  });
  return rows.map(eventDto);
}

export const eventsRouter = router({
  list: readProcedure.input(listEventsInput).query(async ({ ctx, input }) => {
    await loadRun(ctx.services.db.prisma, input.runId);
    const items = await eventsAfter(ctx.services.db.prisma, input.runId, BigInt(input.afterId ?? 0), input.kinds, input.limit);
    return { items, lastId: items.length ? items[items.length - 1]!.id : (input.afterId ?? null) };
  }),
  /**
   * Status changes, log lines and system events of a run, live. Each event is tracked by its
   * database id, so a client that reconnects resumes right after the last event it saw. Event ids
   * come from a sequence; one committed out of order (a slow transaction holding a lower id) is
   * waited for by re-reading a short overlap window instead of skipping past it.
   */
  subscribe: readProcedure.input(eventsSubscriptionInput).subscription(async function* ({ ctx, input, signal }) {
    const { prisma } = ctx.services.db;
    await loadRun(prisma, input.runId);
    let cursor = BigInt(input.lastEventId ?? 0);
    const seen = new Set<string>();
    const checkAuth = liveAuthCheck(ctx);
    while (!signal?.aborted) {
      await checkAuth();
      // Re-read from a little before the cursor: a lower id committed late still gets delivered,
      // and `seen` drops what was already sent.
      const floor = cursor > 50n ? cursor - 50n : 0n;
      const items = await eventsAfter(prisma, input.runId, floor, input.kinds, 500);
      let sent = 0;
      for (const e of items) {
        if (BigInt(e.id) <= BigInt(input.lastEventId ?? 0) || seen.has(e.id)) continue;
        seen.add(e.id);
        sent++;
        if (BigInt(e.id) > cursor) cursor = BigInt(e.id);
        yield tracked(e.id, e);
      }
      for (const id of seen) if (BigInt(id) <= floor) seen.delete(id);
      if (sent === 0) await ctx.services.notifier.wait(input.runId, signal);
    }
  }),
});
