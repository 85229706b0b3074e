import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Database, Prisma } from "@azr/db";
import { createTestDatabase, type TestBackend, type TestDatabase } from "@azr/db/testing";
import { adminConfigSchema, type AdminConfig } from "@azr/orchestrator";
import { createApi, type Api, type CreateApiOptions } from "./api.ts";
import type { Scope } from "./auth/auth-service.ts";
import { FailedAuthLimiter } from "./auth/rate-limit.ts";

// Test fixtures shared by @azr/api, @azr/client and the CLI: a real database, the API mounted on a
// real HTTP server on 127.0.0.1, and users with tokens of each scope.

export const testAdminConfig: AdminConfig = adminConfigSchema.parse({
  pools: [
    { name: "local", launcher: "local", concurrency: 2 },
    { name: "gpu", launcher: "local", concurrency: 1, gpusPerWorker: 1 },
  ],
  models: { tiny: { backend: "tiny", source: { kind: "random-init" } } },
});

export interface TestApi {
  url: string;
  db: Database;
  api: Api;
  server: Server;
  /** admin: scope admin; alice, bob: write (each owns their runs); reader: read only. */
  tokens: Record<"admin" | "alice" | "bob" | "reader", string>;
  users: Record<"admin" | "alice" | "bob" | "reader", string>;
  close(): Promise<void>;
}

export async function startTestApi(backend: TestBackend, options: Partial<CreateApiOptions> = {}): Promise<TestApi> {
  const tdb: TestDatabase = await createTestDatabase(backend);
  const db = await tdb.open();
  const api = createApi({ db, admin: testAdminConfig, auth: { limiter: new FailedAuthLimiter(10_000, 60_000) }, ...options });
  const server = createServer((req, res) => {
    void api.handleHttp(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "NOT_FOUND", message: "no route" } }));
      }
    });
  });
  server.on("upgrade", (req, socket, head) => {
    if (!api.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const tokens = {} as TestApi["tokens"];
  const users = {} as TestApi["users"];
  const scopes: Record<keyof TestApi["tokens"], Scope[]> = { admin: ["admin"], alice: ["read", "write"], bob: ["write"], reader: ["read"] };
  for (const [name, s] of Object.entries(scopes) as [keyof TestApi["tokens"], Scope[]][]) {
    const user = await api.services.auth.ensureUser(name, name === "admin");
    users[name] = user.id;
    tokens[name] = (await api.services.auth.createApiToken({ userId: user.id, name: `${name}-token`, scopes: s })).token;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    db,
    api,
    server,
    tokens,
    users,
    async close() {
      await api.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
      await tdb.drop();
    },
  };
}

/** A run row with metrics, rollouts, buffer entries and checkpoints, written straight to the
 * database the way the orchestrator's step loop would. */
export async function seedRun(
  db: Database,
  ownerId: string,
  opts: { name?: string; status?: Prisma.RunCreateInput["status"]; steps?: number; keys?: string[]; config?: Prisma.InputJsonValue; tags?: string[]; checkpointSteps?: number[]; rollouts?: number } = {},
) {
  const steps = opts.steps ?? 0;
  const run = await db.prisma.run.create({
    data: {
      name: opts.name ?? "seeded",
      owner: { connect: { id: ownerId } },
      status: opts.status ?? "queued",
      config: opts.config ?? { seed: 1, azr: { batchSize: 4 } },
      seed: 1n,
      tags: opts.tags ?? [],
      poolName: "local",
      modelName: "tiny",
      totalSteps: Math.max(steps, 1),
      currentStep: steps,
    },
  });
  const t0 = Date.UTC(2026, 0, 1);
  for (const key of opts.keys ?? []) {
    const series = await db.prisma.metricSeries.create({ data: { runId: run.id, key } });
    if (steps > 0) {
      await db.sql.query(
        `INSERT INTO "MetricPoint" ("seriesId", step, "wallTime", value)
         SELECT $1, s, to_timestamp(($2::float8 + s * 1000) / 1000.0), sin(s / 10.0) + s / 100.0 FROM generate_series(0, $3 - 1) AS s`,
        [series.id, t0, steps],
      );
      await db.sql.query(`UPDATE "MetricSeries" SET "lastStep" = $2 - 1, "lastValue" = sin(($2 - 1) / 10.0) + ($2 - 1) / 100.0, count = $2 WHERE id = $1`, [series.id, steps]);
    }
  }
  const n = opts.rollouts ?? 0;
  if (n > 0) {
    await db.prisma.rollout.createMany({
      data: Array.from({ length: n }, (_, i) => ({
        runId: run.id,
        step: i % Math.max(steps, 1),
        taskType: (["deduction", "abduction", "induction"] as const)[i % 3]!,
        role: i % 2 === 0 ? ("propose" as const) : ("solve" as const),
        prompt: `prompt ${i}`,
        response: i % 5 === 0 ? `<answer>def f(x):\n    return x * ${i} # 50%_off</answer>` : `<think>step ${i}</think><answer>${i}</answer>`,
        valid: i % 4 !== 0,
        executorStatus: i % 4 === 0 ? "error" : "ok",
        reward: (i % 10) / 10,
        promptTokens: 10,
        responseTokens: 20,
      })),
    });
  }
  for (const step of opts.checkpointSteps ?? []) {
    await db.prisma.checkpoint.create({ data: { runId: run.id, step, location: `${run.id}/step-${step}`, contents: { model: 1 }, sizeBytes: 1024n } });
  }
  return run;
}
