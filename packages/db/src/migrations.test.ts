import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, renameSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "./client.ts";
import { DatabaseSetupError } from "./errors.ts";
import { defaultMigrationsDir, loadMigrations, migrate, MIGRATIONS_TABLE } from "./migrations.ts";
import { createTestDatabase, testBackends, type TestDatabase } from "./testing.ts";

function copyMigrations(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "azr-migrations-"));
  cpSync(defaultMigrationsDir, dir, { recursive: true });
  return dir;
}

function addMigration(dir: string, name: string, sql: string) {
  mkdirSync(path.join(dir, name));
  writeFileSync(path.join(dir, name, "migration.sql"), sql);
}

async function tableExists(db: Database, table: string): Promise<boolean> {
  const rows = await db.sql.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND c.relname = $1",
    [table],
  );
  return rows[0]?.n === 1;
}

async function appliedNames(db: Database): Promise<string[]> {
  return (await db.sql.query<{ name: string }>(`SELECT name FROM "${MIGRATIONS_TABLE}" ORDER BY name`)).map((r) => r.name);
}

async function rejection(p: Promise<unknown>): Promise<DatabaseSetupError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DatabaseSetupError);
  return e as DatabaseSetupError;
}

describe.each(testBackends)("migration runner (%s)", (backend) => {
  let tdb: TestDatabase;
  let dir: string;
  const open: Database[] = [];
  const openDb = async (migrationsDir = dir) => {
    const db = await tdb.open({ migrationsDir });
    open.push(db);
    return db;
  };
  beforeEach(async () => {
    tdb = await createTestDatabase(backend);
    dir = copyMigrations();
  });
  afterEach(async () => {
    for (const db of open.splice(0)) await db.close().catch(() => {});
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("applies every migration once and is idempotent", async () => {
    const first = await openDb();
    expect(first.migrations?.applied).toEqual(loadMigrations(dir).map((m) => m.name));
    await first.close();
    open.pop();
    const second = await openDb();
    expect(second.migrations).toEqual({ applied: [], alreadyApplied: loadMigrations(dir).length });
  });

  it("rolls back a migration that fails halfway and leaves the database as it was", async () => {
    await (await openDb()).close();
    open.pop();
    addMigration(dir, "20990101000000_broken", 'CREATE TABLE "Half" (id int);\nALTER TABLE "Run" ADD COLUMN "x" int;\nSELECT * FROM "NoSuchTable";\n');
    const e = await rejection(tdb.open({ migrationsDir: dir }));
    expect(e.code).toBe("migration-failed");
    expect(e.message).toMatch(/20990101000000_broken.*rolled back.*NoSuchTable/s);
    const db = await tdb.open({ migrationsDir: defaultMigrationsDir });
    open.push(db);
    expect(await tableExists(db, "Half")).toBe(false);
    const cols = await db.sql.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'Run' AND column_name = 'x'");
    expect(cols).toHaveLength(0);
    expect(await appliedNames(db)).toEqual(loadMigrations(defaultMigrationsDir).map((m) => m.name));
  });

  it("runs a migration marked azr:no-transaction outside a transaction (CREATE INDEX CONCURRENTLY)", async () => {
    addMigration(dir, "20990101000000_concurrent_index", '-- azr:no-transaction\nCREATE INDEX CONCURRENTLY "Run_name_idx" ON "Run"("name");\n');
    expect(loadMigrations(dir).at(-1)?.transactional).toBe(false);
    const db = await openDb();
    expect(db.migrations?.applied).toContain("20990101000000_concurrent_index");
    const idx = await db.sql.query("SELECT 1 FROM pg_indexes WHERE indexname = 'Run_name_idx'");
    expect(idx).toHaveLength(1);
  });

  it("refuses a database whose history has a migration the folder lacks", async () => {
    addMigration(dir, "20990101000000_newer", 'CREATE TABLE "Newer" (id int);');
    await (await openDb()).close();
    open.pop();
    rmSync(path.join(dir, "20990101000000_newer"), { recursive: true });
    const e = await rejection(tdb.open({ migrationsDir: dir }));
    expect(e.code).toBe("migration-history");
    expect(e.message).toContain('"20990101000000_newer" applied, but prisma/migrations has no such folder');
  });

  it("refuses a migration edited after it was applied", async () => {
    await (await openDb()).close();
    open.pop();
    const [first] = loadMigrations(dir);
    appendFileSync(path.join(dir, first!.name, "migration.sql"), "\n-- edited\n");
    const e = await rejection(tdb.open({ migrationsDir: dir }));
    expect(e.code).toBe("migration-history");
    expect(e.message).toContain("was edited after it was applied");
  });

  it("refuses a new migration that sorts before an applied one", async () => {
    addMigration(dir, "20990101000000_b", "SELECT 1;");
    await (await openDb()).close();
    open.pop();
    addMigration(dir, "20980101000000_a", "SELECT 1;");
    const e = await rejection(tdb.open({ migrationsDir: dir }));
    expect(e.code).toBe("migration-history");
    expect(e.message).toContain('"20980101000000_a" sorts before the already-applied "20990101000000_b"');
  });

  it("rejects a badly named migration folder", async () => {
    addMigration(dir, "add-stuff", "SELECT 1;");
    const e = await rejection(tdb.open({ migrationsDir: dir }));
    expect(e.code).toBe("migrations-folder");
    expect(e.message).toContain('"add-stuff"');
    renameSync(path.join(dir, "add-stuff"), path.join(dir, "20990101000000_add_stuff"));
    expect((await openDb()).migrations?.applied).toContain("20990101000000_add_stuff");
  });
});

describe("two processes migrating one PostgreSQL database at once", () => {
  it("applies each migration exactly once (advisory lock)", async () => {
    const tdb = await createTestDatabase("postgres");
    const pg = (await import("pg")).default;
    const { pgSession } = await import("./sql.ts");
    const url = tdb.target.kind === "postgres" ? tdb.target.url : "";
    const clients = [new pg.Client(url), new pg.Client(url), new pg.Client(url)];
    try {
      await Promise.all(clients.map((c) => c.connect()));
      const migrations = loadMigrations();
      const reports = await Promise.all(clients.map((c) => migrate(pgSession(c), migrations)));
      const appliedCounts = reports.map((r) => r.applied.length).sort();
      expect(appliedCounts).toEqual([0, 0, migrations.length]);
      const rows = await clients[0]!.query(`SELECT count(*)::int AS n FROM "${MIGRATIONS_TABLE}"`);
      expect(rows.rows[0].n).toBe(migrations.length);
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
      await tdb.drop();
    }
  });
});
