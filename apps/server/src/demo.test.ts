import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase } from "@azr/db";
import { expect, it } from "vitest";
import { startServer } from "./testing/server-process.ts";

// The main job end to end, as `npm start` runs it (after setup): the server on a fresh embedded
// database launches the tiny-cpu demo run with the real tiny worker (from the committed demo
// policy) and the bwrap executor, and prints a progress line per step.
it("launches the demo run: valid proposals in its first steps, growing buffers, non-constant rewards", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "azr-demo-"));
  const server = startServer(["--port", "0", "--no-web", "--demo-steps", "2"], { DATABASE_URL: "", AZR_DATA_DIR: dataDir });
  try {
    await server.waitFor(/attempt ended completed/, 400_000);
    const lines = server.output().split("\n").filter((l) => /^\[demo\] step +\d+\/2/.test(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/valid proposals: abd +[\d.]+ ded +[\d.]+ ind +[\d.]+ +reward propose\/solve: .* buffers: abd \d+ ded \d+ ind \d+/);
    expect(await server.stop()).toBe(0);
  } finally {
    server.child.kill("SIGKILL");
  }
  // What the run left in its database.
  const db = await openDatabase({ target: { kind: "pglite", dataDir } });
  try {
    const run = await db.prisma.run.findFirstOrThrow({ where: { tags: { has: "demo" } } });
    expect(run).toMatchObject({ status: "completed", currentStep: 2, modelName: "tiny-demo" });
    const valid = await db.prisma.rollout.count({ where: { runId: run.id, role: "propose", valid: true } });
    expect(valid).toBeGreaterThan(0);
    const proposed = await db.prisma.bufferEntry.count({ where: { runId: run.id, origin: "proposed" } });
    expect(proposed).toBeGreaterThan(0);
    const rewards = await db.prisma.rollout.findMany({ where: { runId: run.id, purpose: "train" }, select: { reward: true }, distinct: ["reward"] });
    expect(rewards.length).toBeGreaterThan(1);
  } finally {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 480_000);
