import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BwrapBackend, ExecutorPool } from "@azr/executor";
import { startLocalWorker } from "@azr/worker-client";
import { buildDemoPolicy, DEMO_POLICY_MANIFEST, lrAt, type BuildProgress, type BuiltDemoPolicy } from "./build.ts";
import { buildCorpus, itemText } from "./corpus.ts";
import { DEMO_TINY_CONFIG, demoRunConfig } from "./config.ts";
import { readManifest } from "./policy.ts";

// A short real build: corpus in the sandbox, sft in a real tiny worker, checkpoint on disk; then
// the checkpoint loads in a fresh worker and holds the trained weights, not the initial ones.

const root = mkdtempSync(path.join(tmpdir(), "azr-demo-build-"));
let pool: ExecutorPool;
let built: BuiltDemoPolicy;
const progress: BuildProgress[] = [];

beforeAll(async () => {
  pool = await new ExecutorPool(new BwrapBackend(), { runners: 2 }).start();
  built = await buildDemoPolicy({
    seed: 5,
    outDir: path.join(root, "policy"),
    corpusSize: 40,
    steps: 6,
    batchSize: 4,
    minutes: 1.5,
    executor: pool,
    threads: 1,
    onProgress: (p) => progress.push(p),
  });
});
afterAll(async () => {
  await pool?.close();
  rmSync(root, { recursive: true, force: true });
});

describe("buildDemoPolicy", () => {
  it("writes a checkpoint with its manifest and reports progress", () => {
    const m = built.manifest;
    expect(existsSync(path.join(built.checkpointDir, "meta.json"))).toBe(true);
    expect(readManifest(built.checkpointDir)).toEqual(m);
    expect(existsSync(path.join(built.checkpointDir, DEMO_POLICY_MANIFEST))).toBe(true);
    expect(m).toMatchObject({ seed: 5, tiny: DEMO_TINY_CONFIG, steps: 6, plannedSteps: 6, stoppedEarly: false, batchSize: 4 });
    expect(m.corpus.items).toBe(40);
    expect(m.checkpointBytes).toBeGreaterThan(1_000_000);
    expect(m.checkpointBytes).toBeLessThan(20_000_000);
    expect(Number.isFinite(m.finalLoss) && m.finalLoss > 0).toBe(true);
    expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(["corpus", "load", "train", "save"]));
    expect(progress.filter((p) => p.phase === "train").at(-1)).toMatchObject({ step: 6, steps: 6 });
  });

  it("the checkpoint loads and holds the trained weights", async () => {
    const config = demoRunConfig();
    const corpus = await buildCorpus({ seed: 5, size: 40, config, exec: (r) => pool.run(r), contextBytes: DEMO_TINY_CONFIG.contextLength });
    const texts = corpus.items.slice(0, 8).map(itemText);
    // Next-token loss on corpus texts (an sft step with a negligible learning rate reports the
    // loss before it changes anything): the built policy must beat the same model at its init.
    const lossOf = async (checkpoint: string | undefined) => {
      const w = await startLocalWorker({ dataRoot: root, threads: 1 });
      try {
        const loaded = await w.client.load({ model: "tiny", tiny: DEMO_TINY_CONFIG, seed: 5, ...(checkpoint ? { checkpoint } : {}) });
        expect(loaded.contextLength).toBe(DEMO_TINY_CONFIG.contextLength);
        if (checkpoint) expect(loaded.step).toBe(6);
        const r = await w.client.sft({ texts, batchSize: 8, microBatchSize: 2, epochs: 1, lr: 1e-12 });
        return r.losses[0]!;
      } finally {
        await w.close();
      }
    };
    const trained = await lossOf("policy");
    const initial = await lossOf(undefined);
    expect(trained).toBeLessThan(initial - 0.3);
  });

  it("lays the learning rate out as warmup then cosine decay to a tenth", () => {
    expect(lrAt(0, 100, 1)).toBeCloseTo(0.2);
    expect(lrAt(4, 100, 1)).toBeCloseTo(1);
    expect(lrAt(100, 100, 1)).toBeCloseTo(0.1);
    expect(lrAt(52, 100, 1)).toBeGreaterThan(0.5);
  });
});
