import { TRPCError } from "@trpc/server";
import type { PrismaClient, Run } from "@azr/db";
import { z } from "zod";

// Input pieces shared by several features. Every string and list has an upper bound, so an
// oversized input is refused by validation (the HTTP layer also caps the body size).

export const uuid = (what: string) => z.uuid({ error: `must be a ${what} id (uuid)` });
export const runIdSchema = uuid("run");
export const limitSchema = (max: number, fallback: number) => z.number().int().min(1).max(max).default(fallback);
/** Bigint row ids travel as decimal strings (JSON has no 64-bit integers). */
export const bigintIdSchema = z.string().regex(/^\d{1,19}$/, "must be a decimal row id");
export const TASK_TYPES = ["deduction", "abduction", "induction"] as const;
export const ROLES = ["propose", "solve"] as const;
export const RUN_STATUS_VALUES = ["queued", "provisioning", "running", "checkpointing", "paused", "completed", "failed", "cancelled"] as const;
export const tagSchema = z.string().min(1).max(64).regex(/^[\w.:/-]+$/, "tags use letters, digits and . _ : / - only");
export const metricKeySchema = z.string().min(1).max(200);

export async function loadRun(prisma: PrismaClient, id: string): Promise<Run> {
  const run = await prisma.run.findUnique({ where: { id } });
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: `no run with id ${id}` });
  return run;
}

export async function assertRunsExist(prisma: PrismaClient, ids: readonly string[]): Promise<void> {
  const unique = [...new Set(ids)];
  const found = await prisma.run.findMany({ where: { id: { in: unique } }, select: { id: true } });
  if (found.length === unique.length) return;
  const have = new Set(found.map((r) => r.id));
  throw new TRPCError({ code: "NOT_FOUND", message: `no run with id ${unique.filter((id) => !have.has(id)).join(", ")}` });
}
