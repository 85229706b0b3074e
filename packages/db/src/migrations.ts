import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DatabaseSetupError } from "./errors.ts";
import type { SqlSession } from "./sql.ts";

export const defaultMigrationsDir = fileURLToPath(new URL("../../../prisma/migrations", import.meta.url));

/** Bookkeeping table; not part of schema.prisma (the drift check ignores it). */
export const MIGRATIONS_TABLE = "_azr_migrations";
/** Arbitrary constant shared by every process of this platform, so two servers starting at once
 * against one PostgreSQL apply each migration exactly once. */
const ADVISORY_LOCK_KEY = 727_272_001;
const NAME_PATTERN = /^\d{14}_[a-z0-9_]+$/;
/** A first-lines marker for statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY). */
const NO_TRANSACTION_MARKER = /^--\s*azr:no-transaction\b/m;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
  transactional: boolean;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: number;
}

export function loadMigrations(dir: string = defaultMigrationsDir): Migration[] {
  if (!existsSync(dir)) {
    throw new DatabaseSetupError(`migrations folder ${dir} does not exist`, "migrations-folder");
  }
  const names = readdirSync(dir)
    .filter((n) => statSync(path.join(dir, n)).isDirectory())
    .sort();
  return names.map((name) => {
    if (!NAME_PATTERN.test(name)) {
      throw new DatabaseSetupError(
        `migration folder "${name}" in ${dir} is not named <14-digit timestamp>_<lowercase_name>; rename it (e.g. 20260101120000_add_x)`,
        "migrations-folder",
      );
    }
    const file = path.join(dir, name, "migration.sql");
    if (!existsSync(file)) {
      throw new DatabaseSetupError(`migration "${name}" has no migration.sql (${file})`, "migrations-folder");
    }
    const sql = readFileSync(file, "utf8");
    const head = sql.split("\n").slice(0, 5).join("\n");
    return { name, sql, checksum: sha256(sql), transactional: !NO_TRANSACTION_MARKER.test(head) };
  });
}

function sha256(text: string): string {
  return createHash("sha256").update(text.replace(/\r\n/g, "\n")).digest("hex");
}

interface AppliedRow extends Record<string, unknown> {
  name: string;
  checksum: string;
}

/** Applies pending migrations in name order on one connection. Each transactional migration and
 * its bookkeeping row commit together, so a failure leaves the database as it was before that
 * migration. Refuses to run when the recorded history disagrees with the folder. */
export async function migrate(
  session: SqlSession,
  migrations: Migration[],
  log: (line: string) => void = () => {},
): Promise<MigrationReport> {
  await session.query("SELECT pg_advisory_lock($1)", [ADVISORY_LOCK_KEY]);
  try {
    await session.exec(
      `CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (
         name TEXT PRIMARY KEY,
         checksum TEXT NOT NULL,
         applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
         duration_ms INTEGER NOT NULL
       )`,
    );
    const applied = await session.query<AppliedRow>(`SELECT name, checksum FROM "${MIGRATIONS_TABLE}" ORDER BY name`);
    const pending = checkHistory(applied, migrations);
    const done: string[] = [];
    for (const m of pending) {
      const started = Date.now();
      log(`applying migration ${m.name}`);
      await applyOne(session, m, started);
      done.push(m.name);
    }
    return { applied: done, alreadyApplied: applied.length };
  } finally {
    await session.query("SELECT pg_advisory_unlock($1)", [ADVISORY_LOCK_KEY]).catch(() => {});
  }
}

/** Names of migrations in the folder that the database has not applied yet (no lock, no changes). */
export async function pendingMigrations(session: SqlSession, migrations: Migration[]): Promise<string[]> {
  const exists = await session.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [`public."${MIGRATIONS_TABLE}"`]);
  if (!exists[0]?.t) return migrations.map((m) => m.name);
  const applied = await session.query<AppliedRow>(`SELECT name, checksum FROM "${MIGRATIONS_TABLE}" ORDER BY name`);
  return checkHistory(applied, migrations).map((m) => m.name);
}

function checkHistory(applied: AppliedRow[], migrations: Migration[]): Migration[] {
  const byName = new Map(migrations.map((m) => [m.name, m]));
  for (const row of applied) {
    const m = byName.get(row.name);
    if (!m) {
      throw new DatabaseSetupError(
        `the database has migration "${row.name}" applied, but prisma/migrations has no such folder: this checkout is older than the database (update the code) or the folder was renamed (restore its name)`,
        "migration-history",
      );
    }
    if (m.checksum !== row.checksum) {
      throw new DatabaseSetupError(
        `migration "${row.name}" was edited after it was applied to this database; restore its original migration.sql and put the change in a new migration`,
        "migration-history",
      );
    }
  }
  const appliedNames = new Set(applied.map((r) => r.name));
  const lastApplied = applied.at(-1)?.name;
  const pending = migrations.filter((m) => !appliedNames.has(m.name));
  const outOfOrder = lastApplied ? pending.find((m) => m.name < lastApplied) : undefined;
  if (outOfOrder && lastApplied) {
    throw new DatabaseSetupError(
      `migration "${outOfOrder.name}" sorts before the already-applied "${lastApplied}" but was never applied; give it a newer timestamp so the history stays linear`,
      "migration-history",
    );
  }
  return pending;
}

async function applyOne(session: SqlSession, m: Migration, started: number): Promise<void> {
  const record = async () =>
    session.query(`INSERT INTO "${MIGRATIONS_TABLE}" (name, checksum, duration_ms) VALUES ($1, $2, $3)`, [
      m.name,
      m.checksum,
      Date.now() - started,
    ]);
  if (!m.transactional) {
    try {
      await session.exec(m.sql);
    } catch (e) {
      throw new DatabaseSetupError(
        `migration "${m.name}" (marked azr:no-transaction) failed: ${errorText(e)}. It ran outside a transaction, so statements before the failing one may have taken effect; inspect the database, undo them, fix the migration and start again`,
        "migration-failed",
        { cause: e },
      );
    }
    await record();
    return;
  }
  await session.exec("BEGIN");
  try {
    await session.exec(m.sql);
    await record();
    await session.exec("COMMIT");
  } catch (e) {
    await session.exec("ROLLBACK").catch(() => {});
    throw new DatabaseSetupError(
      `migration "${m.name}" failed and was rolled back, the database is unchanged: ${errorText(e)}`,
      "migration-failed",
      { cause: e },
    );
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
