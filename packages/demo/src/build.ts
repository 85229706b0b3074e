import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Rng, type RunConfig } from "@azr/azr";
import { BwrapBackend, ExecutorPool } from "@azr/executor";
import { startLocalWorker } from "@azr/worker-client";
import { DEMO_TINY_CONFIG, demoRunConfig } from "./config.ts";
import { buildCorpus, itemText, type CorpusStats } from "./corpus.ts";

// buildDemoPolicy: corpus → a local tiny worker → sft in bounded chunks → save the checkpoint and
// a manifest beside it. The corpus and the learning-rate schedule depend only on the options, so
// a build that finishes its planned steps is reproducible from the seed; a time budget that runs
// out first stops it early (the manifest says so).

export const DEMO_POLICY_MANIFEST = "demo-policy.json";
/** Where `npm start` looks for a built demo policy, relative to the data directory. */
export const DEMO_POLICY_DIR = "demo-policy";

export interface DemoTinyConfig {
  nLayer: number;
  nHead: number;
  dModel: number;
  contextLength: number;
}

export interface BuildDemoPolicyOptions {
  seed?: number;
  /** The checkpoint directory to write (its parent becomes the worker's data root). */
  outDir: string;
  /** Training texts (default 6000). */
  corpusSize?: number;
  /** Planned optimizer steps; the learning-rate schedule is laid out over them (default 1400). */
  steps?: number;
  /** Wall-clock budget for training; the build stops after the chunk that crosses it. */
  minutes?: number;
  /** Texts per optimizer step (default 4). */
  batchSize?: number;
  microBatchSize?: number;
  /** Peak learning rate (default 2e-3), after a linear warmup, cosine decay to a tenth. */
  lr?: number;
  tiny?: DemoTinyConfig;
  config?: RunConfig;
  /** An executor pool to use (default: a bwrap pool started and closed here). */
  executor?: ExecutorPool;
  /** Torch threads in the worker (default 1: on the busy 2-core machine two threads ran eight
   * times slower than one, their spin-waits competing with other processes). */
  threads?: number;
  /** Worker processes (DDP over gloo; each text batch is split between them). Default 1. */
  processes?: number;
  onProgress?: (p: BuildProgress) => void;
}

export type BuildProgress =
  | { phase: "corpus"; done: number; total: number }
  | { phase: "load"; parameters: number }
  | { phase: "train"; step: number; steps: number; loss: number; lr: number; seconds: number; tokensPerSecond: number }
  | { phase: "save"; path: string; bytes: number };

export interface DemoPolicyManifest {
  format: 1;
  seed: number;
  tiny: DemoTinyConfig;
  corpus: CorpusStats;
  steps: number;
  plannedSteps: number;
  stoppedEarly: boolean;
  batchSize: number;
  lr: number;
  /** Mean sft loss (nats per byte) over the last 20 optimizer steps, and over the first 20. */
  finalLoss: number;
  firstLoss: number;
  trainTokens: number;
  tokensPerSecond: number;
  buildSeconds: number;
  checkpointBytes: number;
  createdAt: string;
}

export interface BuiltDemoPolicy {
  /** The checkpoint directory (absolute). */
  checkpointDir: string;
  manifest: DemoPolicyManifest;
}

export function lrAt(step: number, steps: number, peak: number): number {
  const warmup = Math.max(1, Math.round(steps * 0.05));
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const t = Math.min(1, (step - warmup) / Math.max(1, steps - warmup));
  return peak * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * t)));
}

export function dirBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const s = statSync(p);
    total += s.isDirectory() ? dirBytes(p) : s.size;
  }
  return total;
}

export async function buildDemoPolicy(o: BuildDemoPolicyOptions): Promise<BuiltDemoPolicy> {
  const t0 = Date.now();
  const seed = o.seed ?? 0;
  const tiny = o.tiny ?? { ...DEMO_TINY_CONFIG };
  const config = o.config ?? demoRunConfig();
  const batchSize = o.batchSize ?? 4;
  const plannedSteps = o.steps ?? 1400;
  const peak = o.lr ?? 2e-3;
  const deadline = o.minutes === undefined ? Infinity : t0 + o.minutes * 60_000;
  const outDir = path.resolve(o.outDir);
  const dataRoot = path.dirname(outDir);
  mkdirSync(dataRoot, { recursive: true });

  const pool = o.executor ?? (await new ExecutorPool(new BwrapBackend(), { runners: 2 }).start());
  let corpus;
  try {
    corpus = await buildCorpus({
      seed,
      size: o.corpusSize ?? 6000,
      config,
      exec: (r) => pool.run(r),
      contextBytes: tiny.contextLength,
      onProgress: (done, total) => {
        if (done % 500 === 0 || done === total) o.onProgress?.({ phase: "corpus", done, total });
      },
    });
  } finally {
    if (!o.executor) await pool.close();
  }
  if (corpus.stats.items === 0) throw new Error("the corpus is empty");

  const worker = await startLocalWorker({ dataRoot, threads: o.threads ?? 1, nproc: o.processes ?? 1 });
  try {
    const { client } = worker;
    const loaded = await client.load({ model: "tiny", tiny, seed, optimizer: { lr: peak, weightDecay: 0.01 } });
    o.onProgress?.({ phase: "load", parameters: loaded.parameters });
    // Epochs over the corpus in a seeded order, one sft request per chunk of optimizer steps.
    const rng = Rng.fromSeed(seed ^ 0x5eed);
    const texts = corpus.items.map(itemText);
    const order: number[] = [];
    const losses: number[] = [];
    let tokens = 0;
    let trainSeconds = 0;
    const chunkSteps = 4;
    let step = 0;
    while (step < plannedSteps && Date.now() < deadline) {
      const n = Math.min(chunkSteps, plannedSteps - step);
      while (order.length < n * batchSize) {
        const epoch = texts.map((_, i) => i);
        for (let i = epoch.length - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [epoch[i], epoch[j]] = [epoch[j]!, epoch[i]!];
        }
        order.push(...epoch);
      }
      const lr = lrAt(step, plannedSteps, peak);
      const batch = order.splice(0, n * batchSize).map((i) => texts[i]!);
      const r = await client.sft({ texts: batch, batchSize, microBatchSize: o.microBatchSize ?? 2, epochs: 1, lr }, { timeoutMs: 30 * 60_000 });
      losses.push(...r.losses);
      tokens += r.tokens;
      trainSeconds += r.seconds;
      step += r.losses.length;
      o.onProgress?.({ phase: "train", step, steps: plannedSteps, loss: mean(r.losses), lr, seconds: (Date.now() - t0) / 1000, tokensPerSecond: tokens / trainSeconds });
    }
    await client.save({ path: path.basename(outDir) }, { timeoutMs: 10 * 60_000 });
    const checkpointBytes = dirBytes(outDir);
    o.onProgress?.({ phase: "save", path: outDir, bytes: checkpointBytes });
    const manifest: DemoPolicyManifest = {
      format: 1,
      seed,
      tiny,
      corpus: corpus.stats,
      steps: step,
      plannedSteps,
      stoppedEarly: step < plannedSteps,
      batchSize,
      lr: peak,
      finalLoss: mean(losses.slice(-20)),
      firstLoss: mean(losses.slice(0, 20)),
      trainTokens: tokens,
      tokensPerSecond: trainSeconds > 0 ? tokens / trainSeconds : 0,
      buildSeconds: (Date.now() - t0) / 1000,
      checkpointBytes,
      createdAt: new Date().toISOString(),
    };
    writeFileSync(path.join(outDir, DEMO_POLICY_MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
    return { checkpointDir: outDir, manifest };
  } finally {
    await worker.close();
  }
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}
