import path from "node:path";
import { DatabaseSetupError } from "./errors.ts";

export type DatabaseTarget =
  | { kind: "postgres"; url: string; /** the URL with its password hidden, for messages */ display: string }
  | { kind: "pglite"; dataDir: string };

/** Where the data lives: PostgreSQL when DATABASE_URL is set, else the embedded PGlite database
 * under AZR_DATA_DIR (default `.azr/` in the working directory). */
export function resolveDatabaseTarget(
  env: Record<string, string | undefined> = process.env,
  cwd: string = process.cwd(),
): DatabaseTarget {
  const raw = env.DATABASE_URL?.trim();
  if (raw) return { kind: "postgres", ...parsePostgresUrl(raw) };
  return { kind: "pglite", dataDir: path.resolve(cwd, env.AZR_DATA_DIR?.trim() || ".azr") };
}

export function parsePostgresUrl(raw: string): { url: string; display: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new DatabaseSetupError(
      "DATABASE_URL is not a valid URL; expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE (unset it to use the embedded database in .azr/)",
      "invalid-url",
    );
  }
  if (u.protocol !== "postgresql:" && u.protocol !== "postgres:") {
    throw new DatabaseSetupError(
      `DATABASE_URL uses the scheme "${u.protocol.replace(/:$/, "")}"; only postgresql:// (or postgres://) is supported`,
      "invalid-url",
    );
  }
  if (!u.hostname) throw new DatabaseSetupError("DATABASE_URL has no host; expected postgresql://USER@HOST:PORT/DATABASE", "invalid-url");
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (!database) {
    throw new DatabaseSetupError("DATABASE_URL names no database; add it as the path, e.g. postgresql://postgres@127.0.0.1:5432/azr", "invalid-url");
  }
  if (u.port && !/^\d+$/.test(u.port)) throw new DatabaseSetupError(`DATABASE_URL has an invalid port "${u.port}"`, "invalid-url");
  const shown = new URL(u.toString());
  if (shown.password) shown.password = "***";
  return { url: u.toString(), display: shown.toString() };
}

export function describeTarget(target: DatabaseTarget): string {
  return target.kind === "postgres" ? `PostgreSQL ${target.display}` : `embedded PGlite in ${target.dataDir}`;
}
