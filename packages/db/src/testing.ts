import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { openDatabase, type Database, type OpenDatabaseOptions } from "./client.ts";
import { parsePostgresUrl, type DatabaseTarget } from "./config.ts";

/** Both backends every database test runs against. */
export const testBackends = ["pglite", "postgres"] as const;
export type TestBackend = (typeof testBackends)[number];

/** The server tests create their throwaway databases on; CI starts it (scripts/ensure-postgres.sh). */
export const testAdminUrl = process.env.AZR_TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  target: DatabaseTarget;
  /** Opens the throwaway database (migrated unless told otherwise). */
  open(options?: Omit<OpenDatabaseOptions, "target">): Promise<Database>;
  /** Removes the throwaway database and everything in it. */
  drop(): Promise<void>;
}

/** A fresh, empty database of the given kind that no other test (and no user data) shares:
 * a new PostgreSQL database `azr_test_<random>` or a new PGlite directory under the temp dir. */
export async function createTestDatabase(kind: TestBackend): Promise<TestDatabase> {
  if (kind === "pglite") {
    const dataDir = mkdtempSync(path.join(tmpdir(), "azr-test-pglite-"));
    const target: DatabaseTarget = { kind: "pglite", dataDir };
    return {
      target,
      open: (options) => openDatabase({ ...options, target }),
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `azr_test_${randomBytes(6).toString("hex")}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(testAdminUrl);
  url.pathname = `/${name}`;
  const target: DatabaseTarget = { kind: "postgres", ...parsePostgresUrl(url.toString()) };
  return {
    target,
    open: (options) => openDatabase({ ...options, target }),
    drop: () => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testAdminUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
