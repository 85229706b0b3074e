import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { demoRunConfig } from "@azr/demo";
import { createTestDatabase, type TestDatabase } from "@azr/db/testing";
import type { Database } from "@azr/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminConfigSchema } from "./admin-config.ts";
import { startRuntime, type Runtime } from "./runtime.ts";

// The real thing on a small scale: the runtime with the local launcher starting the real Python
// tiny worker (random init), the bwrap executor and the embedded database, for two steps.

describe("runtime with the real tiny worker and the bwrap executor", () => {
  let tdb: TestDatabase;
  let db: Database;
  let runtime: Runtime;
  let dataDir: string;
  const steps: number[] = [];
  beforeAll(async () => {
    tdb = await createTestDatabase("pglite");
    db = await tdb.open();
    dataDir = mkdtempSync(path.join(tmpdir(), "azr-runtime-"));
    const admin = adminConfigSchema.parse({
      pools: [{ name: "local", launcher: "local", concurrency: 1 }],
      models: { "tiny-test": { backend: "tiny", source: { kind: "random-init" }, tiny: { nLayer: 1, nHead: 2, dModel: 32, contextLength: 1280 } } },
    });
    runtime = await startRuntime({ db, dataDir, admin, executorRunners: 2, onStep: (p) => steps.push(p.step) });
  });
  afterAll(async () => {
    await runtime?.close();
    await db?.close();
    await tdb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs a queued run to completion: generate, execute, train, checkpoint through the worker protocol", async () => {
    const config = demoRunConfig({ schedule: { totalSteps: 2, checkpointInterval: 1 }, sampling: { maxResponseLength: 64 }, model: { name: "tiny-test" } });
    const owner = await db.prisma.user.create({ data: { name: "o" } });
    const run = await db.prisma.run.create({
      data: { name: "real", ownerId: owner.id, config: config as object, seed: 0n, poolName: "local", modelName: "tiny-test", totalSteps: 2 },
    });
    await runtime.orchestrator.submit(run.id);
    const t0 = Date.now();
    for (;;) {
      const r = await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
      if (r.status === "completed" || r.status === "failed") {
        expect(r.failureReason).toBeNull();
        expect(r.status).toBe("completed");
        break;
      }
      if (Date.now() - t0 > 240_000) throw new Error(`still ${r.status} after 240 s`);
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(steps).toEqual([1, 2]);
    const rollouts = await db.prisma.rollout.count({ where: { runId: run.id, purpose: "train" } });
    expect(rollouts).toBeGreaterThanOrEqual(2 * 3 * config.azr.batchSize);
    const ckpts = await db.prisma.checkpoint.findMany({ where: { runId: run.id } });
    expect(ckpts.map((c) => c.step).sort()).toEqual([1, 2]);
    expect(Number(ckpts[0]!.sizeBytes)).toBeGreaterThan(1000);
    const after = await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(after.reproducibility).toMatchObject({ worker: { backend: "tiny", host: expect.stringMatching(/^local:/) } });
    const loss = await db.prisma.metricSeries.findUnique({ where: { runId_key: { runId: run.id, key: "train/tokens_per_s" } } });
    expect(loss?.count).toBe(2);
  }, 300_000);
});
