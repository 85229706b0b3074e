import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BwrapBackend, ExecutorPool } from "@azr/executor";
import { startLocalWorker } from "@azr/worker-client";
import { DEMO_TINY_CONFIG, demoRunConfig } from "./config.ts";
import { measureStepOne, type StepOneMeasurement } from "./measure.ts";
import { ensureDemoPolicy } from "./policy.ts";

// The committed demo policy on a fresh run's step-1 proposer prompts, sampled as the run samples
// (temperature 1), judged by @azr/azr with the sandboxed executor, against a random-init model of
// the same shape on the same prompts and generation seed.

const dataDir = mkdtempSync(path.join(tmpdir(), "azr-demo-measure-"));
let pool: ExecutorPool;
const config = demoRunConfig();

async function measure(checkpoint: string | undefined): Promise<StepOneMeasurement> {
  const w = await startLocalWorker({ dataRoot: dataDir, threads: 1 });
  try {
    await w.client.load({ model: "tiny", tiny: DEMO_TINY_CONFIG, seed: 11, ...(checkpoint ? { checkpoint } : {}) });
    return await measureStepOne({ client: w.client, exec: (r) => pool.run(r), config, samplesPerPrompt: 2, seed: 11, solve: checkpoint !== undefined });
  } finally {
    await w.close();
  }
}

beforeAll(async () => {
  pool = await new ExecutorPool(new BwrapBackend(), { runners: 2 }).start();
});
afterAll(async () => {
  await pool?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the committed demo policy", () => {
  it("writes valid step-1 proposals far more often than a random-init model", async () => {
    const location = ensureDemoPolicy(dataDir);
    expect(location.source).toBe("committed");
    const demo = await measure(location.checkpoint);
    const random = await measure(undefined);
    console.log(
      `step-1 valid proposals: demo policy ${demo.propose.good}/${demo.propose.samples} ` +
        `(abduction ${demo.propose.byType.abduction.good}, deduction ${demo.propose.byType.deduction.good}, induction ${demo.propose.byType.induction.good}), ` +
        `random init ${random.propose.good}/${random.propose.samples}; demo solver score ${demo.solve.good}/${demo.solve.samples}; ` +
        `demo generation ${demo.tokensPerSecond.toFixed(0)} tok/s; invalid: ${JSON.stringify(demo.propose.reasons)}`,
    );
    expect(demo.propose.samples).toBe(2 * 3 * config.azr.batchSize);
    expect(random.validRate).toBeLessThan(0.05);
    expect(demo.validRate).toBeGreaterThanOrEqual(0.25);
    // Every task type gets some valid proposals, so all three buffers can grow from step 1.
    for (const t of ["abduction", "deduction", "induction"] as const) expect(demo.propose.byType[t].good).toBeGreaterThan(0);
  });
});
