import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { createTestDatabase, type TestDatabase } from "@azr/db/testing";
import type { Database } from "@azr/db";
import { LISTENING, startServer, startTsx, type NodeProcess } from "../../server/src/testing/server-process.ts";

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const screenshotDir = path.join(webDir, "test-results", "screenshots");

/** Debian's chromium (never a downloaded browser), with the flags design.md lists. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.AZR_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

export interface Stack {
  apiUrl: string;
  webUrl: string;
  token: string;
  db: Database;
  /** What the control plane printed so far (scheduler, worker and sandbox lines included). */
  apiOutput(): string;
  close(): Promise<void>;
}

/** A real control plane as `npm start` runs it — the run scheduler, local workers (the real tiny
 * model on the CPU) and bwrap sandboxes — on its own PostgreSQL database and data dir, without
 * the demo run; and the built dashboard's server proxying to it. */
export async function startStack(): Promise<Stack> {
  const token = `azr_pat_${randomBytes(32).toString("base64url")}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), "azr-web-e2e-"));
  const testDb: TestDatabase = await createTestDatabase("postgres");
  if (testDb.target.kind !== "postgres") throw new Error("expected a PostgreSQL test database");
  let api: NodeProcess | undefined;
  let web: NodeProcess | undefined;
  let db: Database | undefined;
  try {
    api = startServer(["--port", "0", "--no-demo", "--no-web"], { DATABASE_URL: testDb.target.url, AZR_DATA_DIR: dataDir, AZR_ADMIN_TOKEN: token, AZR_ADMIN_CONFIG: undefined });
    const apiUrl = (await api.waitFor(LISTENING))[1]!;
    web = startTsx(path.join(webDir, "server.ts"), ["--port", "0"], { env: { AZR_API_URL: apiUrl, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" }, what: "the dashboard server" });
    const webUrl = (await web.waitFor(/AZR dashboard on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    db = await testDb.open();
    mkdirSync(screenshotDir, { recursive: true });
    const [a, w, d] = [api, web, db];
    return {
      apiUrl,
      webUrl,
      token,
      db: d,
      apiOutput: () => a.output(),
      close: async () => {
        await w.stop();
        await a.stop();
        await d.close();
        await testDb.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await web?.stop();
    await api?.stop();
    await db?.close();
    await testDb.drop().catch(() => undefined);
    throw e;
  }
}
