import type { Database } from "@azr/db";
import type { z } from "zod";
import { bufferEntryDto, rolloutDto, type BufferEntryDto, type RolloutDto } from "../../dto.ts";
import type { bufferInput, rolloutsInput } from "./samples.schema.ts";

/** ILIKE pattern for a literal substring: the user's % and _ are not wildcards. */
export function likePattern(needle: string): string {
  return `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Builds a parameterised WHERE clause; values never enter the SQL text. */
class Where {
  readonly clauses: string[] = [];
  readonly params: unknown[] = [];
  add(sqlWithPlaceholder: (p: string) => string, value: unknown): void {
    this.params.push(value);
    this.clauses.push(sqlWithPlaceholder(`$${this.params.length}`));
  }
  sql(): string {
    return this.clauses.join(" AND ");
  }
}

/**
 * One page of ids in SQL (every filter, the trigram-indexed ILIKE search included, then order and
 * limit), then the rows through Prisma. Doing the search in the same statement as the other
 * filters keeps pagination exact however many rows match.
 */
async function pageIds(db: Database, table: "Rollout" | "BufferEntry", w: Where, order: "asc" | "desc", cursor: string | undefined, limit: number): Promise<bigint[]> {
  if (cursor) w.add((p) => `id ${order === "desc" ? "<" : ">"} ${p}::bigint`, cursor);
  w.params.push(limit + 1);
  // Through the raw session, not Prisma's $queryRaw: array parameters reach PGlite intact.
  const rows = await db.sql.query<{ id: string }>(
    `SELECT id::text AS id FROM "${table}" WHERE ${w.sql()} ORDER BY "${table}".id ${order === "desc" ? "DESC" : "ASC"} LIMIT $${w.params.length}`,
    w.params,
  );
  return rows.map((r) => BigInt(r.id));
}

function paged<T extends { id: bigint }, D>(ids: bigint[], rows: T[], limit: number, dto: (r: T) => D): { items: D[]; nextCursor: string | null } {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const pageIds = ids.slice(0, limit);
  return { items: pageIds.map((id) => dto(byId.get(id)!)), nextCursor: ids.length > limit ? pageIds[pageIds.length - 1]!.toString() : null };
}

export async function listRollouts(db: Database, input: z.output<typeof rolloutsInput>): Promise<{ items: RolloutDto[]; nextCursor: string | null }> {
  const w = new Where();
  w.add((p) => `"runId" = ${p}`, input.runId);
  if (input.taskType) w.add((p) => `"taskType" = ANY(${p}::text[]::"TaskType"[])`, input.taskType);
  if (input.role) w.add((p) => `role = ${p}::"TaskRole"`, input.role);
  if (input.purpose) w.add((p) => `purpose = ${p}::"RolloutPurpose"`, input.purpose);
  if (input.stepFrom !== undefined) w.add((p) => `step >= ${p}`, input.stepFrom);
  if (input.stepTo !== undefined) w.add((p) => `step <= ${p}`, input.stepTo);
  if (input.valid !== undefined) w.add((p) => `valid = ${p}`, input.valid);
  if (input.executorStatus) w.add((p) => `"executorStatus" = ${p}`, input.executorStatus);
  if (input.rewardMin !== undefined) w.add((p) => `reward >= ${p}::float8`, input.rewardMin);
  if (input.rewardMax !== undefined) w.add((p) => `reward <= ${p}::float8`, input.rewardMax);
  if (input.search) w.add((p) => `response ILIKE ${p}`, likePattern(input.search));
  const ids = await pageIds(db, "Rollout", w, input.order, input.cursor, input.limit);
  const rows = ids.length ? await db.prisma.rollout.findMany({ where: { id: { in: ids.slice(0, input.limit) } } }) : [];
  return paged(ids, rows, input.limit, rolloutDto);
}

export async function listBuffer(db: Database, input: z.output<typeof bufferInput>): Promise<{ items: BufferEntryDto[]; nextCursor: string | null }> {
  const w = new Where();
  w.add((p) => `"runId" = ${p}`, input.runId);
  if (input.taskType) w.add((p) => `"taskType" = ANY(${p}::text[]::"TaskType"[])`, input.taskType);
  if (input.origin) w.add((p) => `origin = ${p}::"BufferOrigin"`, input.origin);
  if (input.stepFrom !== undefined) w.add((p) => `"stepAdded" >= ${p}`, input.stepFrom);
  if (input.stepTo !== undefined) w.add((p) => `"stepAdded" <= ${p}`, input.stepTo);
  if (input.search) w.add((p) => `program ILIKE ${p}`, likePattern(input.search));
  const ids = await pageIds(db, "BufferEntry", w, input.order, input.cursor, input.limit);
  const rows = ids.length ? await db.prisma.bufferEntry.findMany({ where: { id: { in: ids.slice(0, input.limit) } } }) : [];
  return paged(ids, rows, input.limit, bufferEntryDto);
}
