import { TRPCError } from "@trpc/server";
import { deepMerge, parseRunConfig, type PresetName, type RunConfig } from "@azr/azr";
import type { Prisma, Run } from "@azr/db";
import { findPool, IllegalTransitionError, isCancellable, isDeletable, isResumable, requireSource, RunNotFoundError, type AdminConfig, type BenchmarkCatalog } from "@azr/orchestrator";
import type { z } from "zod";
import type { Principal } from "../../auth/auth-service.ts";
import { runDto, type RunDto, type RunSummaryDto } from "../../dto.ts";
import { actorOf, assertMayChangeRun, type ApiServices } from "../../trpc.ts";
import { loadRun } from "../common.ts";
import type { archiveRunInput, cancelRunInput, createRunInput, forkRunInput, listRunsInput, updateRunInput } from "./runs.schema.ts";

type Ctx = { services: ApiServices; principal: Principal };

function badRequest(message: string): TRPCError {
  return new TRPCError({ code: "BAD_REQUEST", message });
}

/** The merged config, checked against packages/azr's schema, the admin catalogue and the
 * benchmarks its periodic evaluation names (each must exist and have its data). */
function resolveConfig(admin: AdminConfig, benchmarks: BenchmarkCatalog, overrides: unknown, preset: PresetName | undefined, poolInput: string | undefined) {
  const parsed = parseRunConfig(overrides ?? {}, preset);
  if (!parsed.ok) throw badRequest(parsed.errors.map((e) => `config.${e}`).join("; "));
  const config: RunConfig = parsed.config;
  const poolName = poolInput ?? admin.pools[0]!.name;
  if (!findPool(admin, poolName)) throw badRequest(`pool: unknown pool '${poolName}' (configured: ${admin.pools.map((p) => p.name).join(", ")})`);
  if (!Object.hasOwn(admin.models, config.model.name)) {
    throw badRequest(`config.model.name: '${config.model.name}' is not in the model catalogue (configured: ${Object.keys(admin.models).join(", ")})`);
  }
  config.eval.benchmarks.forEach((name, i) => {
    try {
      requireSource(benchmarks.resolve(name));
    } catch (e) {
      throw badRequest(`config.eval.benchmarks.${i}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  return { config, poolName };
}

export async function createRun(ctx: Ctx, input: z.output<typeof createRunInput>): Promise<RunDto> {
  const { prisma } = ctx.services.db;
  const { config, poolName } = resolveConfig(ctx.services.admin, ctx.services.benchmarks, input.config, input.preset, input.pool);
  const actor = actorOf(ctx.principal);
  const run = await prisma.$transaction(async (tx) => {
    const created = await tx.run.create({
      data: {
        name: input.name ?? `${input.preset ?? "custom"}-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}`,
        ownerId: ctx.principal.userId,
        config: config as unknown as Prisma.InputJsonValue,
        seed: BigInt(config.seed),
        tags: input.tags,
        notes: input.notes,
        poolName,
        modelName: config.model.name,
        priority: input.priority,
        totalSteps: config.schedule.totalSteps,
      },
      include: { owner: true },
    });
    await tx.runEvent.create({
      data: { runId: created.id, kind: "system", actor, message: input.preset ? `created from preset ${input.preset}` : "created", data: { pool: poolName } },
    });
    return created;
  });
  await ctx.services.runControl.runCreated(run, actor);
  ctx.services.notifier.notify(run.id);
  return runDto(run);
}

// runs.list is the API's most frequent call (dashboards poll it), so it is one statement that
// returns each row already in RunSummaryDto's JSON shape (same keys, same order, ISO-8601 UTC
// timestamps, the bigint seed as a decimal string): no ORM round trip, no Date objects. runs.test.ts
// checks every list item against runSummaryDto of the same run.
const isoUtc = (col: string) => `to_char(r."${col}", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const RUN_SUMMARY_JSON = `json_build_object(
  'id', r.id, 'name', r.name, 'ownerId', r."ownerId", 'ownerName', u.name, 'status', r.status, 'seed', r.seed::text,
  'tags', r.tags, 'notes', r.notes, 'poolName', r."poolName", 'modelName', r."modelName", 'priority', r.priority,
  'attempt', r.attempt, 'totalSteps', r."totalSteps", 'currentStep', r."currentStep", 'parentRunId', r."parentRunId",
  'parentCheckpointId', r."parentCheckpointId", 'failureReason', r."failureReason",
  'createdAt', ${isoUtc("createdAt")}, 'updatedAt', ${isoUtc("updatedAt")}, 'queuedAt', ${isoUtc("queuedAt")},
  'startedAt', ${isoUtc("startedAt")}, 'finishedAt', ${isoUtc("finishedAt")}, 'archivedAt', ${isoUtc("archivedAt")})`;
const SORT_COLUMNS = { createdAt: `"createdAt"`, updatedAt: `"updatedAt"`, name: `name`, status: `status` } as const;

/** `%`, `_` and `\` in a name filter are literal: the filter is a substring, not a pattern. */
function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export async function listRuns(ctx: Ctx, input: z.output<typeof listRunsInput>): Promise<{ items: RunSummaryDto[]; nextCursor: string | null }> {
  const params: unknown[] = [];
  const param = (v: unknown) => `$${params.push(v)}`;
  const where = [input.archived ? `r."archivedAt" IS NOT NULL` : `r."archivedAt" IS NULL`];
  if (input.status) where.push(`r.status = ANY(${param(input.status)}::text[]::"RunStatus"[])`);
  if (input.tag) where.push(`r.tags @> ARRAY[${param(input.tag)}::text]`);
  if (input.name) where.push(`r.name ILIKE ('%' || ${param(likeEscape(input.name))} || '%')`);
  if (input.owner) where.push(`u.name = ${param(input.owner)}`);
  if (input.pool) where.push(`r."poolName" = ${param(input.pool)}`);
  const col = SORT_COLUMNS[input.sort];
  const dir = input.order === "desc" ? "DESC" : "ASC";
  // Keyset pagination after the cursor run; the id tie-breaker makes the order total, so pages
  // never repeat or skip a run. An unknown cursor gives an empty page.
  if (input.cursor) where.push(`(r.${col}, r.id) ${input.order === "desc" ? "<" : ">"} (SELECT c.${col}, c.id FROM "Run" c WHERE c.id = ${param(input.cursor)})`);
  const rows = await ctx.services.db.sql.query<{ run: RunSummaryDto }>(
    `SELECT ${RUN_SUMMARY_JSON} AS run
       FROM "Run" r JOIN "User" u ON u.id = r."ownerId"
      WHERE ${where.join(" AND ")}
      ORDER BY r.${col} ${dir}, r.id ${dir}
      LIMIT ${param(input.limit + 1)}`,
    params,
  );
  const items = rows.slice(0, input.limit).map((r) => r.run);
  return { items, nextCursor: rows.length > input.limit ? items[items.length - 1]!.id : null };
}

export async function getRun(ctx: Ctx, id: string): Promise<RunDto> {
  const run = await ctx.services.db.prisma.run.findUnique({ where: { id }, include: { owner: true } });
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: `no run with id ${id}` });
  return runDto(run);
}

async function withOwner(ctx: Ctx, run: Run): Promise<RunDto> {
  const owner = await ctx.services.db.prisma.user.findUnique({ where: { id: run.ownerId } });
  return runDto({ ...run, owner });
}

function mapTransitionError(e: unknown): never {
  if (e instanceof IllegalTransitionError) throw new TRPCError({ code: "CONFLICT", message: e.message });
  if (e instanceof RunNotFoundError) throw new TRPCError({ code: "NOT_FOUND", message: e.message });
  throw e;
}

export async function cancelRun(ctx: Ctx, input: z.output<typeof cancelRunInput>): Promise<RunDto> {
  const run = await loadRun(ctx.services.db.prisma, input.id);
  assertMayChangeRun(ctx.principal, run);
  if (!isCancellable(run.status)) throw new TRPCError({ code: "CONFLICT", message: `run ${run.id} is ${run.status}; it cannot be cancelled` });
  const updated = await ctx.services.runControl.cancel(run.id, actorOf(ctx.principal), input.reason ?? "cancelled by user").catch(mapTransitionError);
  ctx.services.notifier.notify(run.id);
  return withOwner(ctx, updated);
}

export async function resumeRun(ctx: Ctx, id: string): Promise<RunDto> {
  const run = await loadRun(ctx.services.db.prisma, id);
  assertMayChangeRun(ctx.principal, run);
  if (!isResumable(run.status)) throw new TRPCError({ code: "CONFLICT", message: `run ${run.id} is ${run.status}; only paused, failed or cancelled runs can be resumed` });
  const updated = await ctx.services.runControl.resume(run.id, actorOf(ctx.principal), "resumed by user").catch(mapTransitionError);
  ctx.services.notifier.notify(run.id);
  return withOwner(ctx, updated);
}

export async function forkRun(ctx: Ctx, input: z.output<typeof forkRunInput>): Promise<RunDto> {
  const { prisma } = ctx.services.db;
  const parent = await loadRun(prisma, input.id);
  const checkpoint = input.checkpointId
    ? await prisma.checkpoint.findFirst({ where: { id: input.checkpointId, runId: parent.id, deletedAt: null } })
    : await prisma.checkpoint.findFirst({ where: { runId: parent.id, step: { lte: input.fromStep }, deletedAt: null }, orderBy: { step: "desc" } });
  if (!checkpoint) {
    throw new TRPCError({
      code: "NOT_FOUND",
      message: input.checkpointId
        ? `checkpointId: run ${parent.id} has no checkpoint ${input.checkpointId}`
        : `fromStep: run ${parent.id} has no checkpoint at or before step ${input.fromStep}`,
    });
  }
  const merged = deepMerge(parent.config as Record<string, unknown>, input.config ?? {});
  const { config, poolName } = resolveConfig(ctx.services.admin, ctx.services.benchmarks, merged, undefined, input.pool ?? parent.poolName);
  const actor = actorOf(ctx.principal);
  const run = await prisma.$transaction(async (tx) => {
    const created = await tx.run.create({
      data: {
        name: input.name ?? `${parent.name}-fork-${checkpoint.step}`,
        ownerId: ctx.principal.userId,
        config: config as unknown as Prisma.InputJsonValue,
        seed: BigInt(config.seed),
        tags: input.tags ?? parent.tags,
        poolName,
        modelName: config.model.name,
        priority: parent.priority,
        totalSteps: config.schedule.totalSteps,
        // The fork continues counting from its checkpoint's step.
        currentStep: checkpoint.step,
        parentRunId: parent.id,
        parentCheckpointId: checkpoint.id,
      },
      include: { owner: true },
    });
    await tx.runEvent.create({
      data: { runId: created.id, kind: "system", actor, message: `forked from run ${parent.id} at step ${checkpoint.step}`, data: { parentRunId: parent.id, checkpointId: checkpoint.id } },
    });
    return created;
  });
  await ctx.services.runControl.runCreated(run, actor);
  ctx.services.notifier.notify(run.id);
  return runDto(run);
}

export async function updateRun(ctx: Ctx, input: z.output<typeof updateRunInput>): Promise<RunDto> {
  const run = await loadRun(ctx.services.db.prisma, input.id);
  assertMayChangeRun(ctx.principal, run);
  const updated = await ctx.services.db.prisma.run.update({
    where: { id: run.id },
    data: {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.tags !== undefined ? { tags: [...new Set(input.tags)] } : {}),
      ...(input.notes !== undefined ? { notes: input.notes } : {}),
    },
    include: { owner: true },
  });
  return runDto(updated);
}

export async function archiveRun(ctx: Ctx, input: z.output<typeof archiveRunInput>): Promise<RunDto> {
  const run = await loadRun(ctx.services.db.prisma, input.id);
  assertMayChangeRun(ctx.principal, run);
  if (input.archived && !isDeletable(run.status)) throw new TRPCError({ code: "CONFLICT", message: `run ${run.id} is ${run.status}; stop it before archiving` });
  const updated = await ctx.services.db.prisma.run.update({
    where: { id: run.id },
    data: { archivedAt: input.archived ? (run.archivedAt ?? new Date()) : null },
    include: { owner: true },
  });
  return runDto(updated);
}

export async function deleteRun(ctx: Ctx, id: string): Promise<{ id: string; deleted: true }> {
  const { prisma } = ctx.services.db;
  const run = await loadRun(prisma, id);
  assertMayChangeRun(ctx.principal, run);
  // Re-checked under the row lock: a run the scheduler starts meanwhile is not deleted.
  await prisma.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ status: Run["status"] }[]>`SELECT status::text AS status FROM "Run" WHERE id = ${id} FOR UPDATE`;
    if (!row) throw new TRPCError({ code: "NOT_FOUND", message: `no run with id ${id}` });
    if (!isDeletable(row.status)) throw new TRPCError({ code: "CONFLICT", message: `run ${id} is ${row.status}; stop it before deleting` });
    await tx.run.delete({ where: { id } });
  });
  return { id, deleted: true };
}
