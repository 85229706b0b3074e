import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BwrapBackend } from "./bwrap.ts";
import { ExecutorPool } from "./pool.ts";
import { HOSTILE_CASES } from "./testing/hostile-cases.ts";
import { runHostileSuite } from "./testing/hostile-suite.ts";

const CANARY = `azr-canary-${process.pid}`;
const isRoot = process.getuid?.() === 0;

/** Whether uid 65534 can reach this checkout (a clone under /root, mode 0700, cannot). */
function checkoutReachableByOthers(): boolean {
  let dir = fileURLToPath(new URL(".", import.meta.url));
  for (;;) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    const up = path.dirname(dir);
    if (up === dir) return true;
    dir = up;
  }
}

describe("hostile programs on bwrap", () => {
  let pool: ExecutorPool;
  let marker: string;
  beforeAll(async () => {
    process.env.AZR_TEST_CANARY = CANARY;
    marker = path.join(tmpdir(), `azr-hostile-${process.pid}-${Date.now()}`);
    pool = await new ExecutorPool(new BwrapBackend(), { runners: 2 }).start();
  });
  afterAll(async () => {
    await pool?.close();
    rmSync(marker, { force: true });
  });

  it(`has at least 40 cases (${HOSTILE_CASES.length})`, () => {
    expect(HOSTILE_CASES.length).toBeGreaterThanOrEqual(40);
  });

  it(`gives the exact status for every case and stays healthy (as ${isRoot ? "root" : "an unprivileged user"})`, async () => {
    const report = await runHostileSuite(pool, { hostMarker: marker, envCanary: CANARY, backend: "bwrap" });
    expect(report.problems).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });

  // Needs root (to drop to uid 65534) and a checkout that uid 65534 may read.
  it.skipIf(!isRoot || !checkoutReachableByOthers())("gives the same statuses when the pool runs as an unprivileged host user", () => {
    // Run the same suite from a Node process that has dropped to uid/gid 65534: bwrap then runs
    // without setpriv, mapping the caller's own uid.
    const dir = mkdtempSync(path.join(tmpdir(), "azr-unpriv-"));
    chmodSync(dir, 0o777);
    const marker2 = path.join(dir, "marker");
    const script = fileURLToPath(new URL("./testing/hostile-script.ts", import.meta.url));
    const tsx = fileURLToPath(new URL("../../../node_modules/tsx/dist/cli.mjs", import.meta.url));
    const r = spawnSync(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", "--", process.execPath, tsx, script, marker2],
      {
        encoding: "utf8",
        timeout: 120_000,
        env: { PATH: process.env.PATH, HOME: dir, TMPDIR: dir, AZR_TEST_CANARY: CANARY },
      },
    );
    rmSync(dir, { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split("\n").pop()!) as { uid: number; problems: string[]; cases: number };
    expect(report.uid).toBe(65534);
    expect(report.cases).toBe(HOSTILE_CASES.length);
    expect(report.problems).toEqual([]);
  });
});
