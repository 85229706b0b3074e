import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "./client.ts";
import { parsePostgresUrl, resolveDatabaseTarget } from "./config.ts";
import { DatabaseSetupError } from "./errors.ts";
import { createTestDatabase, testBackends, type TestDatabase } from "./testing.ts";

const holder = fileURLToPath(new URL("./test-fixtures/hold-database.ts", import.meta.url));
const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));

describe("database target from the environment", () => {
  it("uses the embedded database in .azr/ of the working directory when DATABASE_URL is unset", () => {
    expect(resolveDatabaseTarget({}, "/srv/x")).toEqual({ kind: "pglite", dataDir: "/srv/x/.azr" });
    expect(resolveDatabaseTarget({ AZR_DATA_DIR: "data" }, "/srv/x")).toEqual({ kind: "pglite", dataDir: "/srv/x/data" });
  });

  it("uses PostgreSQL when DATABASE_URL is set, hiding the password in messages", () => {
    const t = resolveDatabaseTarget({ DATABASE_URL: "postgresql://me:s3cret@db.example:5433/azr" });
    expect(t).toMatchObject({ kind: "postgres", display: "postgresql://me:***@db.example:5433/azr" });
  });

  it.each([
    ["not a url", /not a valid URL/],
    ["mysql://root@localhost/azr", /scheme "mysql"/],
    ["postgresql://localhost", /names no database/],
    ["postgresql://localhost:5432/", /names no database/],
  ])("rejects DATABASE_URL=%s with a message saying what is wrong", (url, message) => {
    let err: unknown;
    try {
      parsePostgresUrl(url);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatabaseSetupError);
    expect((err as DatabaseSetupError).code).toBe("invalid-url");
    expect((err as Error).message).toMatch(message);
  });

  it("explains an unreachable PostgreSQL", async () => {
    const target = { kind: "postgres" as const, ...parsePostgresUrl("postgresql://postgres@127.0.0.1:1/azr") };
    const err = await openDatabase({ target }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseSetupError);
    expect((err as DatabaseSetupError).code).toBe("unreachable");
    expect((err as Error).message).toMatch(/cannot connect to postgresql:\/\/postgres@127\.0\.0\.1:1\/azr.*is PostgreSQL running/);
  });

  it("explains a database that does not exist", async () => {
    const target = { kind: "postgres" as const, ...parsePostgresUrl("postgresql://postgres@127.0.0.1:5432/azr_no_such_db_for_tests") };
    const err = await openDatabase({ target }).catch((e: unknown) => e);
    expect((err as DatabaseSetupError).code).toBe("unreachable");
    expect((err as Error).message).toMatch(/does not exist.*createdb/);
  });
});

describe("the embedded database is locked to one process", () => {
  let dir: string;
  let child: ChildProcess | undefined;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "azr-lock-"));
  });
  afterAll(() => {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a second process with a clear error, and the holder's data survives", async () => {
    child = spawn(tsx, [holder, dir], { stdio: ["pipe", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
      child!.on("exit", (code) => reject(new Error(`holder exited ${code}`)));
    });
    const err = await openDatabase({ target: { kind: "pglite", dataDir: dir } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseSetupError);
    expect((err as DatabaseSetupError).code).toBe("locked");
    expect((err as Error).message).toMatch(/in use by process \d+ on .*stop that process/);

    child.stdin!.end();
    await new Promise((r) => child!.on("exit", r));
    expect(existsSync(path.join(dir, "lock"))).toBe(false);
    const db = await openDatabase({ target: { kind: "pglite", dataDir: dir } });
    expect(db.migrations?.applied).toEqual([]);
    await db.close();
  });

  it("takes over a lock left by a process that died", async () => {
    writeFileSync(path.join(dir, "lock"), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import("node:os")).hostname(), since: "x" }));
    const db = await openDatabase({ target: { kind: "pglite", dataDir: dir } });
    await db.close();
    expect(existsSync(path.join(dir, "lock"))).toBe(false);
  });
});

describe.each(testBackends)("Prisma client round trip (%s)", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await tdb.open();
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it("stores runs with enums, arrays, JSON and bigints, and cascades deletes", async () => {
    const owner = await db.prisma.user.create({ data: { name: "ada" } });
    const run = await db.prisma.run.create({
      data: {
        name: "first",
        ownerId: owner.id,
        config: { preset: "tiny-cpu", trainBatchSize: 64 },
        seed: 9_007_199_254_740_993n,
        tags: ["demo", "cpu"],
        poolName: "local",
        modelName: "tiny",
        totalSteps: 10,
      },
    });
    await db.prisma.runEvent.createMany({
      data: [
        { runId: run.id, kind: "transition", fromStatus: "queued", toStatus: "provisioning", actor: "scheduler", message: "capacity" },
        { runId: run.id, kind: "log", level: "warn", actor: "worker", message: "slow step" },
      ],
    });
    const series = await db.prisma.metricSeries.create({ data: { runId: run.id, key: "reward/solve/deduction" } });
    await db.prisma.metricPoint.createMany({
      data: Array.from({ length: 50 }, (_, step) => ({ seriesId: series.id, step, wallTime: new Date(1e12 + step * 1000), value: step / 10 })),
    });
    const got = await db.prisma.run.findUniqueOrThrow({ where: { id: run.id }, include: { events: { orderBy: { id: "asc" } } } });
    expect(got.seed).toBe(9_007_199_254_740_993n);
    expect(got.tags).toEqual(["demo", "cpu"]);
    expect(got.config).toEqual({ preset: "tiny-cpu", trainBatchSize: 64 });
    expect(got.events.map((e) => e.toStatus)).toEqual(["provisioning", null]);
    expect(typeof got.events[0]!.id).toBe("bigint");
    const tagged = await db.prisma.run.findMany({ where: { tags: { has: "cpu" } } });
    expect(tagged.map((r) => r.id)).toEqual([run.id]);

    const buckets = await db.sql.query<{ bucket: number; mean: number; max: number }>(
      `SELECT width_bucket(step, 0, 50, 5) AS bucket, avg(value) AS mean, max(value) AS max
         FROM "MetricPoint" WHERE "seriesId" = $1 AND step BETWEEN 0 AND 49 GROUP BY 1 ORDER BY 1`,
      [series.id],
    );
    expect(buckets.map((b) => Number(b.max))).toEqual([0.9, 1.9, 2.9, 3.9, 4.9]);

    await db.prisma.run.delete({ where: { id: run.id } });
    expect(await db.prisma.metricPoint.count({ where: { seriesId: series.id } })).toBe(0);
    expect(await db.prisma.runEvent.count({ where: { runId: run.id } })).toBe(0);
  });

  it("refuses to delete a user who still owns runs (Restrict), keeping the data", async () => {
    const owner = await db.prisma.user.create({ data: { name: "grace" } });
    await db.prisma.run.create({
      data: { name: "kept", ownerId: owner.id, config: {}, seed: 1n, poolName: "local", modelName: "tiny", totalSteps: 1 },
    });
    await expect(db.prisma.user.delete({ where: { id: owner.id } })).rejects.toThrow();
    expect(await db.prisma.run.count({ where: { ownerId: owner.id } })).toBe(1);
  });

  it("finds rollouts by a substring of the response through the trigram index", async () => {
    const owner = await db.prisma.user.create({ data: { name: "linus" } });
    const run = await db.prisma.run.create({
      data: { name: "search", ownerId: owner.id, config: {}, seed: 1n, poolName: "local", modelName: "tiny", totalSteps: 1 },
    });
    const base = { runId: run.id, step: 1, taskType: "deduction" as const, role: "solve" as const, prompt: "p", valid: true, promptTokens: 3, responseTokens: 5 };
    await db.prisma.rollout.createMany({
      data: [
        { ...base, response: "<think>sort it</think><answer>```output\n[1, 2, 3]\n```</answer>" },
        { ...base, response: "<think>use a heap: heapq.heappush</think><answer>```output\n7\n```</answer>" },
      ],
    });
    const hits = await db.prisma.rollout.findMany({ where: { runId: run.id, response: { contains: "HEAPPUSH", mode: "insensitive" } } });
    expect(hits).toHaveLength(1);
    const usesIndex = await explainUsesIndex(db, `SELECT id FROM "Rollout" WHERE response ILIKE '%heappush%'`, "Rollout_response_idx");
    expect(usesIndex).toBe(true);
  });
});

async function explainUsesIndex(db: Database, query: string, index: string): Promise<boolean> {
  await db.sql.exec("BEGIN");
  try {
    await db.sql.exec("SET LOCAL enable_seqscan = off");
    const rows = await db.sql.query<Record<string, string>>(`EXPLAIN ${query}`);
    return rows.some((r) => Object.values(r).some((v) => String(v).includes(index)));
  } finally {
    await db.sql.exec("COMMIT");
  }
}
