import { randomUUID } from "node:crypto";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import type { Checkpoint, Prisma, PrismaClient } from "@azr/db";
import { BenchmarkDefinitionError, type BenchmarkDefinition } from "@azr/eval";
import { EvalNotFoundError, evalSettings, findPool, IllegalEvalTransitionError, isEvalFinished, requireSource, type BenchmarkInfo } from "@azr/orchestrator";
import type { z } from "zod";
import type { Principal } from "../../auth/auth-service.ts";
import { evalDto, evalProblemDto, evalSummaryDto, type EvalDto, type EvalProblemDto, type EvalSampleDto, type EvalSummaryDto } from "../../dto.ts";
import { actorOf, type ApiServices } from "../../trpc.ts";
import { loadRun } from "../common.ts";
import type { cancelEvalInput, compareEvalsInput, getEvalInput, listEvalsInput, startEvalInput } from "./evals.schema.ts";

type Ctx = { services: ApiServices; principal: Principal };

const fail = (code: TRPCError["code"], message: string) => new TRPCError({ code, message });

async function loadEval(prisma: PrismaClient, id: string) {
  const row = await prisma.evalResult.findUnique({ where: { id }, include: { createdBy: { select: { name: true } } } });
  if (!row) throw fail("NOT_FOUND", `no evaluation with id ${id}`);
  return row;
}

/** The checkpoint a start names: by id, by step, or the run's newest. */
async function chooseCheckpoint(prisma: PrismaClient, runId: string, input: { step?: number; checkpointId?: string }): Promise<Checkpoint> {
  const live = { runId, deletedAt: null };
  const found = input.checkpointId
    ? await prisma.checkpoint.findFirst({ where: { ...live, id: input.checkpointId } })
    : input.step !== undefined
      ? await prisma.checkpoint.findFirst({ where: { ...live, step: input.step } })
      : await prisma.checkpoint.findFirst({ where: live, orderBy: { step: "desc" } });
  if (found) return found;
  const steps = (await prisma.checkpoint.findMany({ where: live, orderBy: { step: "asc" }, select: { step: true } })).map((c) => c.step);
  const have = steps.length ? `its checkpoints are at steps ${steps.join(", ")}` : "it has no checkpoint yet";
  if (input.checkpointId) throw fail("NOT_FOUND", `checkpointId: run ${runId} has no checkpoint ${input.checkpointId} (${have})`);
  if (input.step !== undefined) throw fail("NOT_FOUND", `step: run ${runId} has no checkpoint at step ${input.step} (${have})`);
  throw fail("NOT_FOUND", `runId: run ${runId} has no checkpoint to evaluate yet`);
}

/** Each benchmark resolved (admin entries, then the caller's overrides) and readable; every
 * error names the field. Nothing is written until all of them pass. */
function resolveBenchmarks(services: ApiServices, principal: Principal, names: string[], overrides: z.output<typeof startEvalInput>["overrides"]): BenchmarkDefinition[] {
  if (overrides?.source !== undefined) {
    if (principal.scope !== "admin") {
      throw fail("FORBIDDEN", "overrides.source: only an admin may point a benchmark at a file on the server; ask one to set benchmarks.<name>.source in the admin configuration");
    }
    if (!path.isAbsolute(overrides.source)) throw fail("BAD_REQUEST", "overrides.source: must be an absolute path on the server");
  }
  return names.map((name, i) => {
    let def: BenchmarkDefinition;
    try {
      def = services.benchmarks.resolve(name, overrides ?? {});
    } catch (e) {
      if (!(e instanceof BenchmarkDefinitionError)) throw e;
      const unknown = e.message.startsWith("unknown benchmark");
      throw fail(unknown ? "NOT_FOUND" : "BAD_REQUEST", `benchmarks.${i} (${name}): ${e.message}`);
    }
    try {
      requireSource(def);
    } catch (e) {
      if (!(e instanceof BenchmarkDefinitionError)) throw e;
      throw fail("PRECONDITION_FAILED", `benchmarks.${i} (${name}): ${e.message}`);
    }
    return def;
  });
}

export async function startEvals(ctx: Ctx, input: z.output<typeof startEvalInput>): Promise<{ jobId: string; items: EvalDto[] }> {
  const { prisma } = ctx.services.db;
  const { admin } = ctx.services;
  let subject: { runId: string | null; checkpoint: Checkpoint | null; modelName: string; poolName: string; template: "azr" | "base" };
  if (input.runId !== undefined) {
    const run = await loadRun(prisma, input.runId);
    const checkpoint = await chooseCheckpoint(prisma, run.id, input);
    if (!Object.hasOwn(admin.models, run.modelName)) throw fail("PRECONDITION_FAILED", `runId: the run's model '${run.modelName}' is no longer in the model catalogue`);
    subject = { runId: run.id, checkpoint, modelName: run.modelName, poolName: input.pool ?? run.poolName, template: input.template ?? "azr" };
  } else {
    const model = input.model!;
    if (!Object.hasOwn(admin.models, model)) throw fail("NOT_FOUND", `model: '${model}' is not in the model catalogue (configured: ${Object.keys(admin.models).join(", ")})`);
    subject = { runId: null, checkpoint: null, modelName: model, poolName: input.pool ?? admin.pools[0]!.name, template: input.template ?? "base" };
  }
  if (!findPool(admin, subject.poolName)) throw fail("BAD_REQUEST", `pool: unknown pool '${subject.poolName}' (configured: ${admin.pools.map((p) => p.name).join(", ")})`);
  const defs = resolveBenchmarks(ctx.services, ctx.principal, input.benchmarks, input.overrides);

  const jobId = randomUUID();
  const overrides = (input.overrides ?? {}) as Record<string, unknown>;
  const rows = await prisma.$transaction(async (tx) => {
    const created = [];
    for (const def of defs) {
      created.push(
        await tx.evalResult.create({
          data: {
            jobId,
            runId: subject.runId,
            checkpointId: subject.checkpoint?.id ?? null,
            step: subject.checkpoint?.step ?? null,
            modelName: subject.modelName,
            benchmark: def.name,
            poolName: subject.poolName,
            priority: input.priority,
            createdById: ctx.principal.userId,
            settings: evalSettings(def, subject.template, overrides) as unknown as Prisma.InputJsonValue,
          },
          include: { createdBy: { select: { name: true } } },
        }),
      );
    }
    return created;
  });
  const actor = actorOf(ctx.principal);
  try {
    await ctx.services.evalControl.jobCreated(jobId, actor);
  } catch (e) {
    const reason = `could not be queued: ${e instanceof Error ? e.message : String(e)}`;
    await prisma.evalResult.updateMany({ where: { jobId, status: "queued" }, data: { status: "failed", error: reason, finishedAt: new Date() } });
    throw fail("INTERNAL_SERVER_ERROR", `the evaluations ${reason}`);
  }
  for (const r of rows) ctx.services.notifier.notify(r.id);
  return { jobId, items: rows.map(evalDto) };
}

export async function listEvals(ctx: Ctx, input: z.output<typeof listEvalsInput>): Promise<{ items: EvalSummaryDto[]; nextCursor: string | null }> {
  const runIds = input.runId ? [input.runId, ...(input.runIds ?? [])] : input.runIds;
  const where: Prisma.EvalResultWhereInput = {
    ...(runIds ? { runId: { in: runIds } } : {}),
    ...(input.benchmark ? { benchmark: input.benchmark } : {}),
    ...(input.model ? { modelName: input.model } : {}),
    ...(input.status ? { status: { in: input.status } } : {}),
    ...(input.origin ? { origin: input.origin } : {}),
    ...(input.jobId ? { jobId: input.jobId } : {}),
  };
  const rows = await ctx.services.db.prisma.evalResult.findMany({
    where,
    omit: { settings: true },
    include: { createdBy: { select: { name: true } } },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit + 1,
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
  });
  const more = rows.length > input.limit;
  const items = rows.slice(0, input.limit);
  return { items: items.map(evalSummaryDto), nextCursor: more ? items[items.length - 1]!.id : null };
}

export async function getEval(ctx: Ctx, input: z.output<typeof getEvalInput>): Promise<EvalDto & { problems: { items: EvalProblemDto[]; nextAfterIndex: number | null } }> {
  const { prisma } = ctx.services.db;
  const row = await loadEval(prisma, input.id);
  const page = await prisma.evalProblemResult.findMany({
    where: { evalId: row.id, index: { gt: input.afterIndex }, ...(input.solved !== undefined ? { solved: input.solved } : {}) },
    orderBy: { index: "asc" },
    take: input.limit + 1,
  });
  const more = page.length > input.limit;
  const items = page.slice(0, input.limit).map(evalProblemDto);
  return { ...evalDto(row), problems: { items, nextAfterIndex: more ? items[items.length - 1]!.index : null } };
}

export interface CompareSide {
  correct: number;
  n: number;
  solved: boolean;
  samples: EvalSampleDto[];
}

export interface EvalComparison {
  a: EvalSummaryDto;
  b: EvalSummaryDto;
  /** Problems both evaluations answered, by who solved them; and those only one of them has. */
  counts: { aOnly: number; bOnly: number; both: number; neither: number; missingInA: number; missingInB: number };
  items: { problemId: string; index: number; prompt: string; category: "a-only" | "b-only" | "both" | "neither"; a: CompareSide; b: CompareSide }[];
  nextAfterIndex: number | null;
}

const CATEGORY_SQL = {
  "a-only": `a.solved AND NOT b.solved`,
  "b-only": `b.solved AND NOT a.solved`,
  both: `a.solved AND b.solved`,
  neither: `NOT a.solved AND NOT b.solved`,
} as const;

/** Two evaluations of the same benchmark, problem by problem: one merge of their two primary-key
 * ranges (evalId, problemId). */
export async function compareEvals(ctx: Ctx, input: z.output<typeof compareEvalsInput>): Promise<EvalComparison> {
  const { prisma } = ctx.services.db;
  const [a, b] = [await loadEval(prisma, input.a), await loadEval(prisma, input.b)];
  if (a.benchmark !== b.benchmark) throw fail("BAD_REQUEST", `b: evaluation ${b.id} is of ${b.benchmark}, evaluation ${a.id} of ${a.benchmark}; compare evaluations of the same benchmark`);
  for (const [field, e] of [["a", a], ["b", b]] as const) {
    if (e.status !== "completed") throw fail("CONFLICT", `${field}: evaluation ${e.id} is ${e.status}; only completed evaluations have per-problem results`);
  }
  const [c] = await prisma.$queryRawUnsafe<{ a_only: number; b_only: number; both: number; neither: number; missing_in_a: number; missing_in_b: number }[]>(
    `SELECT count(*) FILTER (WHERE ${CATEGORY_SQL["a-only"]})::int AS a_only,
            count(*) FILTER (WHERE ${CATEGORY_SQL["b-only"]})::int AS b_only,
            count(*) FILTER (WHERE ${CATEGORY_SQL.both})::int AS both,
            count(*) FILTER (WHERE ${CATEGORY_SQL.neither})::int AS neither,
            count(*) FILTER (WHERE a."problemId" IS NULL)::int AS missing_in_a,
            count(*) FILTER (WHERE b."problemId" IS NULL)::int AS missing_in_b
       FROM (SELECT "problemId", solved FROM "EvalProblemResult" WHERE "evalId" = $1) a
       FULL JOIN (SELECT "problemId", solved FROM "EvalProblemResult" WHERE "evalId" = $2) b ON a."problemId" = b."problemId"`,
    a.id,
    b.id,
  );
  const filter = input.category ? `AND ${CATEGORY_SQL[input.category]}` : "";
  const rows = await prisma.$queryRawUnsafe<
    { problemId: string; index: number; prompt: string; a_correct: number; a_n: number; a_solved: boolean; a_samples: EvalSampleDto[]; b_correct: number; b_n: number; b_solved: boolean; b_samples: EvalSampleDto[] }[]
  >(
    `SELECT a."problemId", a.index, a.prompt,
            a.correct AS a_correct, a.n AS a_n, a.solved AS a_solved, a.samples AS a_samples,
            b.correct AS b_correct, b.n AS b_n, b.solved AS b_solved, b.samples AS b_samples
       FROM "EvalProblemResult" a
       JOIN "EvalProblemResult" b ON b."evalId" = $2 AND b."problemId" = a."problemId"
      WHERE a."evalId" = $1 AND a.index > $3 ${filter}
      ORDER BY a.index
      LIMIT $4`,
    a.id,
    b.id,
    input.afterIndex,
    input.limit + 1,
  );
  const more = rows.length > input.limit;
  const items = rows.slice(0, input.limit).map((r) => ({
    problemId: r.problemId,
    index: r.index,
    prompt: r.prompt,
    category: r.a_solved ? (r.b_solved ? "both" : "a-only") : r.b_solved ? "b-only" : ("neither" as const),
    a: { correct: r.a_correct, n: r.a_n, solved: r.a_solved, samples: r.a_samples },
    b: { correct: r.b_correct, n: r.b_n, solved: r.b_solved, samples: r.b_samples },
  })) as EvalComparison["items"];
  return {
    a: evalSummaryDto(a),
    b: evalSummaryDto(b),
    counts: { aOnly: c!.a_only, bOnly: c!.b_only, both: c!.both, neither: c!.neither, missingInA: c!.missing_in_a, missingInB: c!.missing_in_b },
    items,
    nextAfterIndex: more ? items[items.length - 1]!.index : null,
  };
}

export async function cancelEval(ctx: Ctx, input: z.output<typeof cancelEvalInput>): Promise<EvalDto> {
  const { prisma } = ctx.services.db;
  const row = await loadEval(prisma, input.id);
  if (row.origin === "periodic") throw fail("CONFLICT", `evaluation ${row.id} is part of run ${row.runId}'s training; cancel the run instead`);
  if (ctx.principal.scope !== "admin" && row.createdById !== ctx.principal.userId) {
    throw fail("FORBIDDEN", `evaluation ${row.id} was started by another user; only they or an admin may cancel it`);
  }
  if (isEvalFinished(row.status)) throw fail("CONFLICT", `evaluation ${row.id} is ${row.status}; it cannot be cancelled`);
  try {
    await ctx.services.evalControl.cancel(row.id, actorOf(ctx.principal), input.reason ?? "cancelled by user");
  } catch (e) {
    if (e instanceof IllegalEvalTransitionError) throw fail("CONFLICT", e.message);
    if (e instanceof EvalNotFoundError) throw fail("NOT_FOUND", e.message);
    throw e;
  }
  ctx.services.notifier.notify(row.id);
  return evalDto(await loadEval(prisma, row.id));
}

export function listBenchmarks(ctx: Ctx): { items: BenchmarkInfo[] } {
  return { items: ctx.services.benchmarks.list() };
}
