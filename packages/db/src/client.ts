import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { PrismaPg } from "@prisma/adapter-pg";
import { mkdirSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { describeTarget, resolveDatabaseTarget, type DatabaseTarget } from "./config.ts";
import { acquireDataDirLock } from "./data-dir-lock.ts";
import { DatabaseSetupError } from "./errors.ts";
import { PrismaClient } from "./generated/prisma/client.ts";
import { defaultMigrationsDir, errorText, loadMigrations, migrate, type MigrationReport } from "./migrations.ts";
import { pgliteSession, pgSession, type SqlSession } from "./sql.ts";

export interface Database {
  prisma: PrismaClient;
  target: DatabaseTarget;
  /** Raw SQL for what Prisma does not express (downsampling, introspection). */
  sql: SqlSession;
  migrations: MigrationReport | undefined;
  describe(): string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Defaults to DATABASE_URL, else the embedded database in `.azr/`. */
  target?: DatabaseTarget;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  migrationsDir?: string;
  log?: (line: string) => void;
}

/** The one client factory: PostgreSQL through @prisma/adapter-pg when DATABASE_URL is set, the
 * embedded PGlite database through pglite-prisma-adapter otherwise. */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  const target = options.target ?? resolveDatabaseTarget();
  const open = target.kind === "postgres" ? openPostgres : openPglite;
  return open(target as never, options);
}

async function openPostgres(target: Extract<DatabaseTarget, { kind: "postgres" }>, options: OpenDatabaseOptions): Promise<Database> {
  let migrations: MigrationReport | undefined;
  if (options.migrate !== false) {
    // Migrations run on one dedicated connection: the advisory lock and transactions are per session.
    const client = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: 5_000 });
    await connectOrExplain(() => client.connect(), target);
    try {
      migrations = await migrate(pgSession(client), loadMigrations(options.migrationsDir ?? defaultMigrationsDir), options.log);
    } finally {
      await client.end();
    }
  }
  const pool = new pg.Pool({ connectionString: target.url, connectionTimeoutMillis: 5_000, max: 10 });
  pool.on("error", () => {}); // idle-client errors surface on the next query instead of crashing the process
  if (options.migrate === false) {
    await connectOrExplain(async () => (await pool.connect()).release(), target);
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    target,
    sql: pgSession(pool),
    migrations,
    describe: () => describeTarget(target),
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function connectOrExplain(connect: () => Promise<unknown>, target: Extract<DatabaseTarget, { kind: "postgres" }>) {
  try {
    await connect();
  } catch (e) {
    const code = (e as { code?: string }).code;
    const hint =
      code === "3D000"
        ? "the database does not exist: create it (createdb) or fix the name in DATABASE_URL"
        : code === "28P01" || code === "28000"
          ? "authentication failed: check the user and password in DATABASE_URL"
          : "is PostgreSQL running and reachable? check DATABASE_URL, or unset it to use the embedded database";
    throw new DatabaseSetupError(`cannot connect to ${target.display}: ${errorText(e) || code}; ${hint}`, "unreachable", { cause: e });
  }
}

async function openPglite(target: Extract<DatabaseTarget, { kind: "pglite" }>, options: OpenDatabaseOptions): Promise<Database> {
  const lock = acquireDataDirLock(target.dataDir);
  let db: PGlite | undefined;
  try {
    const pgdata = path.join(target.dataDir, "pgdata");
    mkdirSync(pgdata, { recursive: true });
    db = await PGlite.create(pgdata, { extensions: { pg_trgm } });
    const session = pgliteSession(db);
    const migrations =
      options.migrate === false
        ? undefined
        : await migrate(session, loadMigrations(options.migrationsDir ?? defaultMigrationsDir), options.log);
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
    const handle = db;
    return {
      prisma,
      target,
      sql: session,
      migrations,
      describe: () => describeTarget(target),
      async close() {
        try {
          await prisma.$disconnect();
          await handle.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (e) {
    await db?.close().catch(() => {});
    lock.release();
    throw e;
  }
}
