import { describe, expect, it } from "vitest";
import { PRESET_NAMES, REFERENCE_BANNED_MODULES, defaultRunConfig, parseRunConfig } from "./config.ts";

describe("run config", () => {
  it("defaults to the reference hyperparameters and the project's switch defaults", () => {
    const c = defaultRunConfig();
    expect(c.azr).toMatchObject({
      taskTypes: ["abduction", "deduction", "induction"],
      batchSize: 64,
      learnabilitySamples: 8,
      references: 6,
      inductionInputs: 10,
      maxPrograms: 16384,
      solverRecencyWindow: 1,
      referenceSampling: "uniform",
      rewardMode: "paper",
      advantageStats: "sequence",
      defRule: "single-def",
      bannedCheck: "strict",
      maxOutputChars: 4000,
      inductionReward: "binary",
      seedBatchFactor: 4,
    });
    expect(c.azr.bannedModules).toEqual([...REFERENCE_BANNED_MODULES]);
    expect(c.sampling).toMatchObject({ temperature: 1, topP: 1, topK: -1, maxPromptLength: 6144, maxResponseLength: 8096 });
    expect(c.optim).toMatchObject({ lr: 1e-6, weightDecay: 0, miniBatchSize: 128, ppoEpochs: 1, clipRatio: 0.2, gradClip: 1, klCoef: 0, entropyCoef: 0 });
    expect(c.schedule.checkpointInterval).toBe(10);
    expect(c.executor.timeoutMs).toBe(10_000);
    expect(c.seed).toBe(0);
    expect(c.prompts.version).toBe("azr-v1");
  });

  it("keeps defaults for the fields a partial section leaves out", () => {
    const r = parseRunConfig({ azr: { rewardMode: "reference", advantageStats: "token" }, seed: 9 });
    expect(r.ok && r.config.azr).toMatchObject({ rewardMode: "reference", advantageStats: "token", batchSize: 64, references: 6 });
  });

  it("names the field in every error", () => {
    const r = parseRunConfig({
      azr: { batchSize: 0, rewardMode: "both", bogus: 1 },
      optim: { lr: -1 },
      prompts: { overrides: { deductionSolve: "no placeholders" } },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.some((e) => e.startsWith("azr.batchSize:"))).toBe(true);
    expect(r.errors.some((e) => e.startsWith("azr.rewardMode:"))).toBe(true);
    expect(r.errors.some((e) => e.includes("bogus"))).toBe(true);
    expect(r.errors.some((e) => e.startsWith("optim.lr:"))).toBe(true);
    expect(r.errors).toContain("prompts.overrides.deductionSolve: template must contain {{program}}, {{input}}");
    expect(parseRunConfig({ azr: { taskTypes: ["deduction", "deduction"] } })).toMatchObject({ ok: false, errors: ["azr.taskTypes: task types must not repeat"] });
  });

  it("has valid presets that differ as the reference scripts do", () => {
    for (const name of PRESET_NAMES) expect(parseRunConfig({}, name).ok).toBe(true);
    const tiny = defaultRunConfig("tiny-cpu");
    expect(tiny.model).toMatchObject({ backend: "tiny", gpus: 0 });
    expect(tiny.azr.batchSize).toBeLessThan(64);
    expect(defaultRunConfig("qwen2.5-3b-coder").model).toMatchObject({ name: "Qwen/Qwen2.5-Coder-3B", gpus: 2 });
    expect(defaultRunConfig("qwen2.5-7b-coder").model).toMatchObject({ name: "Qwen/Qwen2.5-Coder-7B", gpus: 4 });
    expect(defaultRunConfig("qwen2.5-7b").model).toMatchObject({ name: "Qwen/Qwen2.5-7B", gpus: 4 });
    expect(defaultRunConfig("qwen2.5-14b-coder").model).toMatchObject({ name: "Qwen/Qwen2.5-Coder-14B", gpus: 8 });
    expect(defaultRunConfig("qwen2.5-7b-coder").azr).toMatchObject({ batchSize: 64, learnabilitySamples: 8, references: 6, proposerPromptMaxTokens: 5600 });
  });

  it("applies user values over a preset", () => {
    const r = parseRunConfig({ azr: { batchSize: 2 }, model: { gpus: 1 } }, "qwen2.5-7b");
    expect(r.ok && [r.config.azr.batchSize, r.config.model.gpus, r.config.model.name]).toEqual([2, 1, "Qwen/Qwen2.5-7B"]);
    expect(parseRunConfig({}, "nope" as never)).toEqual({ ok: false, errors: ["preset: unknown preset 'nope'"] });
  });

  it("has periodic evaluation off by default; every N steps needs benchmarks, named once each", () => {
    expect(defaultRunConfig().eval).toEqual({ every: 0, benchmarks: [], limit: 0 });
    const on = parseRunConfig({ eval: { every: 2, benchmarks: ["fixture-math"], limit: 3 } });
    expect(on.ok && on.config.eval).toEqual({ every: 2, benchmarks: ["fixture-math"], limit: 3 });
    expect(parseRunConfig({ eval: { every: 5 } })).toEqual({ ok: false, errors: ["eval.benchmarks: name at least one benchmark when eval.every is set"] });
    expect(parseRunConfig({ eval: { every: 1, benchmarks: ["a", "a"] } })).toEqual({ ok: false, errors: ["eval.benchmarks: benchmarks must not repeat"] });
    expect(parseRunConfig({ eval: { every: -1, benchmarks: ["a"] } }).ok).toBe(false);
    expect(parseRunConfig({ eval: { each: 1 } })).toMatchObject({ ok: false, errors: [expect.stringMatching(/^eval: Unrecognized key/)] });
  });
});
