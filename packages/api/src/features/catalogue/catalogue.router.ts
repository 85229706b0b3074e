import { holdsCapacity, RUN_STATUSES } from "@azr/orchestrator";
import { workerDto } from "../../dto.ts";
import { readProcedure, router } from "../../trpc.ts";
import { listWorkersInput } from "./catalogue.schema.ts";

// Pools and models come from the administrator's configuration file (read-only through the API:
// changing what compute and images exist is a deployment decision, not an API call).

export const poolsRouter = router({
  list: readProcedure.query(async ({ ctx }) => {
    const busy = RUN_STATUSES.filter(holdsCapacity);
    const counts = await ctx.services.db.prisma.run.groupBy({ by: ["poolName", "status"], where: { status: { in: [...busy, "queued"] } }, _count: { _all: true } });
    return {
      items: ctx.services.admin.pools.map((p) => ({
        name: p.name,
        launcher: p.launcher,
        concurrency: p.concurrency,
        gpusPerWorker: p.gpusPerWorker,
        resources: p.resources,
        images: "images" in p ? p.images : [],
        active: counts.filter((c) => c.poolName === p.name && holdsCapacity(c.status)).reduce((n, c) => n + c._count._all, 0),
        queued: counts.filter((c) => c.poolName === p.name && c.status === "queued").reduce((n, c) => n + c._count._all, 0),
      })),
    };
  }),
});

export const modelsRouter = router({
  list: readProcedure.query(({ ctx }) => ({
    items: Object.entries(ctx.services.admin.models).map(([name, m]) => ({
      name,
      backend: m.backend,
      source: m.source,
      tokenizer: m.tokenizer ?? null,
      trustRemoteCode: m.trustRemoteCode,
    })),
  })),
});

export const workersRouter = router({
  list: readProcedure.input(listWorkersInput).query(async ({ ctx, input }) => {
    const rows = await ctx.services.db.prisma.worker.findMany({
      where: { ...(input.runId ? { runId: input.runId } : {}), ...(input.status ? { status: { in: input.status } } : {}) },
      orderBy: { startedAt: "desc" },
      take: input.limit,
    });
    return { items: rows.map(workerDto) };
  }),
});
