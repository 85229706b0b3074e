import type { Database } from "@azr/db";
import path from "node:path";
import { buildDemoPolicy, DEMO_POLICY_DIR, DEMO_TINY_CONFIG, demoRunConfig, ensureDemoPolicy } from "@azr/demo";
import type { AdminConfig, Orchestrator, StepProgress } from "@azr/orchestrator";

// The main job of `npm start`: a tiny-cpu AZR run with the real tiny worker and the bwrap
// executor, starting from the demo policy (a tiny model warmed up with SFT on well-formed AZR
// outputs; a randomly initialised one would write nothing valid), with progress on stdout.

export const DEMO_MODEL = "tiny-demo";
export const DEMO_TAG = "demo";

/** Adds the demo model to the catalogue (unless the admin defined one by that name). The demo
 * policy comes from the data dir, else the committed build; with neither it is built here once
 * (minutes on a CPU), with progress. */
export async function prepareDemoModel(admin: AdminConfig, dataDir: string, log: (line: string) => void): Promise<AdminConfig> {
  if (admin.models[DEMO_MODEL]) return admin;
  let policy;
  try {
    policy = ensureDemoPolicy(dataDir);
  } catch {
    const outDir = path.join(dataDir, DEMO_POLICY_DIR);
    log(`no demo policy yet: building one in ${outDir} (SFT of the tiny model on a synthetic corpus of well-formed AZR outputs; a few minutes, once)`);
    let lastPct = -1;
    await buildDemoPolicy({
      outDir,
      onProgress: (p) => {
        if (p.phase === "corpus" && p.done === p.total) log(`corpus: ${p.total} texts`);
        if (p.phase === "train") {
          const pct = Math.floor((100 * p.step) / p.steps / 10) * 10;
          if (pct !== lastPct) log(`training: step ${p.step}/${p.steps}, loss ${p.loss.toFixed(3)}, ${Math.round(p.tokensPerSecond)} tokens/s`);
          lastPct = pct;
        }
        if (p.phase === "save") log(`saved ${p.path} (${(p.bytes / 1e6).toFixed(1)} MB)`);
      },
    });
    policy = ensureDemoPolicy(dataDir);
  }
  return {
    ...admin,
    models: {
      ...admin.models,
      [DEMO_MODEL]: { backend: "tiny", source: { kind: "directory", path: policy.checkpoint }, tiny: { ...DEMO_TINY_CONFIG }, trustRemoteCode: false },
    },
  };
}

/** Continues an unfinished demo run, or queues a new one. Returns the run id and whether it is new. */
export async function launchDemoRun(db: Database, orchestrator: Orchestrator, admin: AdminConfig, steps: number): Promise<{ runId: string; created: boolean }> {
  const unfinished = await db.prisma.run.findFirst({
    where: { tags: { has: DEMO_TAG }, status: { in: ["queued", "provisioning", "running", "checkpointing", "paused"] } },
    orderBy: { createdAt: "desc" },
  });
  if (unfinished) {
    if (unfinished.status === "paused") await orchestrator.resume(unfinished.id, "server");
    return { runId: unfinished.id, created: false };
  }
  const pool = admin.pools.find((p) => p.launcher === "local");
  if (!pool) throw new Error("the demo needs a pool with the local launcher; add one to the admin configuration or start with --no-demo");
  const owner = (await db.prisma.user.findFirst({ where: { isAdmin: true }, orderBy: { createdAt: "asc" } })) ?? (await db.prisma.user.upsert({ where: { name: "demo" }, create: { name: "demo" }, update: {} }));
  // A small learning rate: the tiny-cpu preset's 1e-4 unlearns the demo policy's formats within a
  // few steps, before self-play has anything to show.
  const config = demoRunConfig({ schedule: { totalSteps: steps, checkpointInterval: Math.min(5, steps) }, optim: { lr: 1e-5 }, model: { name: DEMO_MODEL } });
  const run = await db.prisma.run.create({
    data: {
      name: `demo ${new Date().toISOString().slice(0, 16).replace("T", " ")}`,
      ownerId: owner.id,
      config: config as object,
      seed: BigInt(config.seed),
      tags: [DEMO_TAG, "tiny-cpu"],
      poolName: pool.name,
      modelName: DEMO_MODEL,
      totalSteps: steps,
      events: { create: { kind: "system", actor: "server", message: "demo run created by npm start" } },
    },
  });
  await orchestrator.submit(run.id);
  return { runId: run.id, created: true };
}

const f2 = (x: number | undefined) => (x === undefined ? "  -  " : x.toFixed(2).padStart(5));

/** One line per step: valid-proposal rates, mean rewards per (type × role), buffer sizes, time. */
export function formatProgress(p: StepProgress): string {
  const m = p.metrics;
  const short = { abduction: "abd", deduction: "ded", induction: "ind" } as const;
  const types = Object.keys(short) as (keyof typeof short)[];
  const valid = types.map((t) => `${short[t]} ${f2(m[`propose/${t}/valid_rate`])}`).join(" ");
  const rewards = types.map((t) => `${short[t]} ${f2(m[`reward/${t}.propose`])}/${f2(m[`reward/${t}.solve`])}`).join("  ");
  const buffers = types.map((t) => `${short[t]} ${m[`buffer/${t}`] ?? 0}`).join(" ");
  const seconds = ((m["time/total_ms"] ?? 0) / 1000).toFixed(1);
  return `step ${String(p.step).padStart(3)}/${p.totalSteps}  valid proposals: ${valid}  reward propose/solve: ${rewards}  buffers: ${buffers}  (${seconds}s)`;
}
