// Builds the demo policy: a synthetic corpus of well-formed AZR outputs (packages/demo), then a
// tiny checkpoint warmed up on it with the worker's `sft`. Run: npx tsx scripts/build-demo-policy.ts --help
import path from "node:path";
import { parseArgs } from "node:util";
import { BwrapBackend, ExecutorPool } from "@azr/executor";
import { startLocalWorker } from "@azr/worker-client";
import { buildDemoPolicy, DEMO_POLICY_DIR, DEMO_TINY_CONFIG, demoRunConfig, measureStepOne, readManifest, type DemoPolicyManifest } from "@azr/demo";

const HELP = `Usage: npx tsx scripts/build-demo-policy.ts [options]

Builds the demo policy for the tiny-cpu demo run: a corpus of well-formed AZR prompts and answers
from program templates (gold outputs computed in the bwrap sandbox), then a tiny byte-level model
(${JSON.stringify(DEMO_TINY_CONFIG)}) trained on it with the worker's sft. Writes the
checkpoint directory with demo-policy.json (seed, corpus, config, losses, build time) inside.

Options:
  --seed N         corpus, model init and data order seed (default 0)
  --out DIR        checkpoint directory (default $AZR_DATA_DIR/${DEMO_POLICY_DIR}, AZR_DATA_DIR=.azr)
  --minutes M      wall-clock budget for training; stops early when crossed (default 45)
  --steps N        planned optimizer steps (default 1400)
  --corpus N       training texts (default 6000)
  --batch N        texts per optimizer step (default 4)
  --lr X           peak learning rate (default 0.002)
  --threads N      torch threads in the worker (default 1: on a busy 2-core machine two threads
                   ran 8x slower than one)
  --measure N      afterwards, sample N times per step-1 prompt and report the valid-proposal rate
                   of the built policy and of a random-init model (default 0: skip)
  --temperature X  sampling temperature for --measure (default: the demo run's)
  --measure-only   skip the build; measure the policy already at --out (needs --measure N)
  -h, --help       this text`;

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "0" },
    out: { type: "string" },
    minutes: { type: "string", default: "45" },
    steps: { type: "string", default: "1400" },
    corpus: { type: "string", default: "6000" },
    temperature: { type: "string" },
    batch: { type: "string", default: "4" },
    lr: { type: "string", default: "0.002" },
    threads: { type: "string", default: "1" },
    measure: { type: "string", default: "0" },
    "measure-only": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
function num(name: keyof typeof values, int = true): number {
  const v = Number(values[name]);
  if (!Number.isFinite(v) || v < 0 || (int && !Number.isInteger(v))) {
    console.error(`--${name}: expected a ${int ? "non-negative integer" : "non-negative number"}, got ${String(values[name])}`);
    process.exit(2);
  }
  return v;
}

const dataDir = path.resolve(process.env.AZR_DATA_DIR ?? ".azr");
const outDir = path.resolve(values.out ?? path.join(dataDir, DEMO_POLICY_DIR));
const seed = num("seed");
const threads = num("threads") || 1;
const started = Date.now();
const stamp = () => `[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s]`;

async function build(): Promise<DemoPolicyManifest> {
  console.log(`${stamp()} building the demo policy (seed ${seed}) into ${outDir}`);
  const built = await buildDemoPolicy({
    seed,
    outDir,
    minutes: num("minutes", false),
    steps: num("steps"),
    corpusSize: num("corpus"),
    batchSize: num("batch"),
    lr: num("lr", false),
    threads,
    onProgress: (p) => {
      if (p.phase === "corpus") console.log(`${stamp()} corpus: judged ${p.done}/${p.total} candidate texts`);
      else if (p.phase === "load") console.log(`${stamp()} model: ${p.parameters.toLocaleString("en")} parameters`);
      else if (p.phase === "train") {
        if (p.step % 20 === 0 || p.step === p.steps) {
          console.log(`${stamp()} sft step ${p.step}/${p.steps}  loss ${p.loss.toFixed(3)}  lr ${p.lr.toExponential(2)}  ${p.tokensPerSecond.toFixed(0)} tok/s`);
        }
      } else console.log(`${stamp()} saved ${p.path} (${(p.bytes / 1e6).toFixed(1)} MB)`);
    },
  });
  const m = built.manifest;
  console.log(
    `${stamp()} done: ${m.corpus.items} texts, ${m.steps}/${m.plannedSteps} steps${m.stoppedEarly ? " (time budget reached)" : ""}, ` +
      `loss ${m.firstLoss.toFixed(3)} -> ${m.finalLoss.toFixed(3)}, ${m.buildSeconds.toFixed(0)} s, ${(m.checkpointBytes / 1e6).toFixed(1)} MB`,
  );
  return m;
}

let m: DemoPolicyManifest;
if (values["measure-only"]) {
  const found = readManifest(outDir);
  if (!found) {
    console.error(`--measure-only: no demo policy manifest in ${outDir}`);
    process.exit(2);
  }
  m = found;
} else m = await build();

const samples = num("measure");
if (samples > 0) {
  const config = demoRunConfig(values.temperature === undefined ? {} : { sampling: { temperature: num("temperature", false) } });
  const pool = await new ExecutorPool(new BwrapBackend(), { runners: 2 }).start();
  try {
    for (const which of ["demo policy", "random init"] as const) {
      const w = await startLocalWorker({ dataRoot: path.dirname(outDir), threads });
      try {
        await w.client.load({ model: "tiny", tiny: { ...m.tiny }, seed, ...(which === "demo policy" ? { checkpoint: path.basename(outDir) } : {}) });
        const r = await measureStepOne({ client: w.client, exec: (q) => pool.run(q), config, samplesPerPrompt: samples, seed });
        const t = r.propose.byType;
        console.log(
          `${stamp()} ${which}: valid proposals ${r.propose.good}/${r.propose.samples} (${(100 * r.validRate).toFixed(0)}%; ` +
            `abduction ${t.abduction.good}/${t.abduction.samples}, deduction ${t.deduction.good}/${t.deduction.samples}, induction ${t.induction.good}/${t.induction.samples}), ` +
            `well-formed ${r.propose.formatOk}/${r.propose.samples}, solver score ${r.solve.good}/${r.solve.samples}, ` +
            `generation ${r.tokensPerSecond.toFixed(0)} tok/s; invalid: ${JSON.stringify(r.propose.reasons)}`,
        );
      } finally {
        await w.close();
      }
    }
  } finally {
    await pool.close();
  }
}
