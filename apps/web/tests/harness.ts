import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { createTestDatabase, type TestDatabase } from "@azr/db/testing";
import type { Database } from "@azr/db";

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(webDir, "../..");
export const screenshotDir = path.join(webDir, "test-results", "screenshots");

/** Debian's chromium (never a downloaded browser), with the flags design.md lists. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.AZR_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/** Starts a process and resolves with the first stdout match of `ready` (e.g. its URL). */
function start(args: string[], env: NodeJS.ProcessEnv, ready: RegExp, what: string, timeoutMs = 180_000): Promise<{ child: ChildProcess; match: RegExpMatchArray; output: () => string }> {
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs / 1000} s:\n${out}`)), timeoutMs);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m, output: () => out });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready:\n${out}`));
    });
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(t);
}

export interface Stack {
  apiUrl: string;
  webUrl: string;
  token: string;
  db: Database;
  close(): Promise<void>;
}

/** A real control plane (its own PostgreSQL database and data dir, no demo run) and the built
 * dashboard's server proxying to it. */
export async function startStack(): Promise<Stack> {
  const token = `azr_pat_${randomBytes(32).toString("base64url")}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), "azr-web-e2e-"));
  const testDb: TestDatabase = await createTestDatabase("postgres");
  if (testDb.target.kind !== "postgres") throw new Error("expected a PostgreSQL test database");
  let api: Awaited<ReturnType<typeof start>> | undefined;
  let web: Awaited<ReturnType<typeof start>> | undefined;
  let db: Database | undefined;
  try {
    api = await start(
      ["--import", "tsx", "apps/server/src/main.ts", "--port", "0", "--no-demo"],
      { ...process.env, DATABASE_URL: testDb.target.url, AZR_DATA_DIR: dataDir, AZR_ADMIN_TOKEN: token, AZR_ADMIN_CONFIG: undefined },
      /listening on (http:\/\/127\.0\.0\.1:\d+)/,
      "the AZR API server",
    );
    const apiUrl = api.match[1]!;
    web = await start(
      ["--import", "tsx", "apps/web/server.ts", "--port", "0"],
      { ...process.env, AZR_API_URL: apiUrl, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
      /AZR dashboard on (http:\/\/127\.0\.0\.1:\d+)/,
      "the dashboard server",
    );
    db = await testDb.open();
    mkdirSync(screenshotDir, { recursive: true });
    const [a, w, d] = [api, web, db];
    return {
      apiUrl,
      webUrl: web.match[1]!,
      token,
      db: d,
      close: async () => {
        await stop(w.child);
        await stop(a.child);
        await d.close();
        await testDb.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await stop(web?.child);
    await stop(api?.child);
    await db?.close();
    await testDb.drop().catch(() => undefined);
    throw e;
  }
}
