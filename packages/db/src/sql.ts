import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";

/** The few raw-SQL operations the migration runner and schema introspection need, over either
 * backend. `exec` runs a multi-statement script with the simple query protocol. */
export interface SqlSession {
  query<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  exec(sql: string): Promise<void>;
}

export function pgliteSession(db: PGlite): SqlSession {
  return {
    async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []) {
      return (await db.query<T>(sql, params)).rows;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}

export function pgSession(client: pg.ClientBase | pg.Pool): SqlSession {
  return {
    async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []) {
      return (await client.query(sql, params)).rows as T[];
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  };
}
