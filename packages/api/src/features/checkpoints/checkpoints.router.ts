import { rm } from "node:fs/promises";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import type { PrismaClient } from "@azr/db";
import { checkpointDto } from "../../dto.ts";
import { assertMayChangeRun, readProcedure, router, writeProcedure } from "../../trpc.ts";
import { loadRun } from "../common.ts";
import { deleteCheckpointInput, listCheckpointsInput, pinCheckpointInput } from "./checkpoints.schema.ts";

async function loadCheckpoint(prisma: PrismaClient, id: string) {
  const c = await prisma.checkpoint.findUnique({ where: { id }, include: { run: { select: { id: true, ownerId: true } } } });
  if (!c || c.deletedAt) throw new TRPCError({ code: "NOT_FOUND", message: `no checkpoint with id ${id}` });
  return c;
}

/** Only directories inside the configured checkpoint root are ever removed. */
function insideRoot(root: string, location: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(root, location));
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

export const checkpointsRouter = router({
  list: readProcedure.input(listCheckpointsInput).query(async ({ ctx, input }) => {
    await loadRun(ctx.services.db.prisma, input.runId);
    const rows = await ctx.services.db.prisma.checkpoint.findMany({
      where: { runId: input.runId, ...(input.includeDeleted ? {} : { deletedAt: null }) },
      orderBy: { step: "asc" },
    });
    return { items: rows.map(checkpointDto) };
  }),
  /** Pinned checkpoints survive retention and cannot be deleted until unpinned. */
  pin: writeProcedure.input(pinCheckpointInput).mutation(async ({ ctx, input }) => {
    const c = await loadCheckpoint(ctx.services.db.prisma, input.id);
    assertMayChangeRun(ctx.principal, c.run);
    return checkpointDto(await ctx.services.db.prisma.checkpoint.update({ where: { id: c.id }, data: { pinned: input.pinned } }));
  }),
  delete: writeProcedure.input(deleteCheckpointInput).mutation(async ({ ctx, input }) => {
    const { prisma } = ctx.services.db;
    const c = await loadCheckpoint(prisma, input.id);
    assertMayChangeRun(ctx.principal, c.run);
    if (c.pinned) throw new TRPCError({ code: "CONFLICT", message: `checkpoint ${c.id} is pinned; unpin it first` });
    // The row is marked first: a checkpoint without its row is garbage the retention sweep
    // removes, while a row without its files would be a lie.
    const updated = await prisma.checkpoint.update({ where: { id: c.id }, data: { deletedAt: new Date() } });
    const root = ctx.services.admin.checkpoints.root;
    if (insideRoot(root, c.location)) await rm(path.resolve(root, c.location), { recursive: true, force: true });
    return checkpointDto(updated);
  }),
});
