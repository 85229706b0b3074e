// Worker benchmark (tiny backend on CPU, a real worker process over the real protocol):
//   npx tsx bench/worker/run.ts [--quick]
// Prints JSON: generate and train tokens/s, the round trip of an empty request, and the protocol
// overhead of one AZR-sized step (384 rollouts: generate + train) against that step's compute time.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { generateResultSchema, trainRequestSchema, workerRequestSchema } from "@azr/protocol";
import { startLocalWorker } from "@azr/worker-client";
import { benchArgs } from "../options.ts";

const quick = benchArgs(import.meta.url, { quick: { type: "boolean" } }).flag("quick");
const TARGET_OVERHEAD = 0.05;

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: q(0.5), p95: q(0.95) };
}

const w = await startLocalWorker({ dataRoot: mkdtempSync(path.join(tmpdir(), "azr-bench-")) });
try {
  const loaded = await w.client.load({ model: "tiny", seed: 0, optimizer: { lr: 1e-4 } });

  // 1. empty request round trip
  for (let i = 0; i < 50; i++) await w.client.ping();
  const rtts: number[] = [];
  for (let i = 0; i < (quick ? 200 : 1000); i++) {
    const t = performance.now();
    await w.client.ping();
    rtts.push(performance.now() - t);
  }

  // 2. one AZR-sized step: 384 prompts of a few hundred characters, one sample each, then one
  //    update on all 384 (mini-batch 128 -> 3 optimizer steps), as in the paper's step.
  const rollouts = 384;
  const maxTokens = quick ? 32 : 96;
  const prompts = Array.from({ length: rollouts }, (_, i) =>
    `## Task ${i}: predict the output of f\n\`\`\`python\ndef f(xs):\n    return sorted(set(xs))[::-1][:${i % 7}]\n\`\`\`\n\`\`\`input\n[${i}, 3, 1, 2, ${i % 5}]\n\`\`\`\nAssistant: <think>`,
  );
  const steps: { wall: number; compute: number; genTps: number; trainTps: number; trainSeqTps: number; bytes: number }[] = [];
  for (let s = 0; s < (quick ? 1 : 3); s++) {
    const t0 = performance.now();
    const g = await w.client.generate({ prompts, n: 1, maxTokens, temperature: 1, seed: s, tag: "bench" });
    const advantages = g.rollouts.map((r, i) => ({ rolloutId: r.rolloutId!, advantage: ((i % 5) - 2) / 2 }));
    const t = await w.client.train({ rollouts: advantages, miniBatchSize: 128, microBatchSize: 32 });
    const wall = (performance.now() - t0) / 1000;
    const bytes = JSON.stringify({ prompts }).length + JSON.stringify(g).length + JSON.stringify(advantages).length + JSON.stringify(t).length;
    const trainSeqTps = (g.promptTokens + g.completionTokens) / t.seconds; // every token goes through the trainer
    steps.push({ wall, compute: g.seconds + t.seconds, genTps: g.tokensPerSecond, trainTps: t.tokensPerSecond, trainSeqTps, bytes });
  }

  // 3. the control plane's own share of that: serialising and validating the step's messages in TS
  const g = await w.client.generate({ prompts, n: 1, maxTokens, seed: 99, store: false });
  const genReply = JSON.stringify({ type: "result", id: "x", op: "generate", result: g });
  const trainReq = { type: "train", id: "t", rollouts: g.rollouts.map((_, i) => ({ rolloutId: `r${i}`, advantage: 0.5 })) };
  const t1 = performance.now();
  const reps = 20;
  for (let i = 0; i < reps; i++) {
    workerRequestSchema.parse({ type: "generate", id: "g", prompts });
    JSON.stringify({ type: "generate", id: "g", prompts });
    generateResultSchema.parse(JSON.parse(genReply).result);
    trainRequestSchema.parse(trainReq);
    JSON.stringify(trainReq);
  }
  const tsMessageSeconds = (performance.now() - t1) / 1000 / reps;

  const last = steps.at(-1)!;
  const overheads = steps.map((x) => (x.wall - x.compute) / x.wall);
  const result = {
    bench: "worker",
    device: "cpu (tiny backend)",
    model: { parameters: loaded.parameters, contextLength: loaded.contextLength },
    generateTokensPerSecond: Math.round(stats(steps.map((x) => x.genTps)).p50),
    // response tokens trained per second, and all tokens (prompt + response) through the trainer
    trainTokensPerSecond: Math.round(stats(steps.map((x) => x.trainTps)).p50),
    trainSequenceTokensPerSecond: Math.round(stats(steps.map((x) => x.trainSeqTps)).p50),
    emptyRequestRoundTripMs: Object.fromEntries(Object.entries(stats(rtts)).map(([k, v]) => [k, Number(v.toFixed(3))])),
    step384: {
      rollouts,
      maxTokens,
      wallSeconds: Number(last.wall.toFixed(3)),
      computeSeconds: Number(last.compute.toFixed(3)),
      messageBytes: last.bytes,
      // everything that is not the worker's generate/train compute: transport, JSON, validation on both sides
      protocolOverhead: Number(stats(overheads).p50.toFixed(4)),
      controlPlaneMessageSeconds: Number(tsMessageSeconds.toFixed(4)),
      target: TARGET_OVERHEAD,
      withinTarget: stats(overheads).p50 < TARGET_OVERHEAD,
    },
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await w.close();
}
