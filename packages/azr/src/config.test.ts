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

  it("seeds from the identity seeds unless told otherwise; imports name a relative file or valid inline rows", () => {
    expect(defaultRunConfig().azr).toMatchObject({ seedSource: "identity", seedMaxRounds: 50 });
    expect(defaultRunConfig().azr.seedTripletsFile).toBeUndefined();
    const ok = (azr: object) => parseRunConfig({ azr });
    const errors = (azr: object) => {
      const r = ok(azr);
      return r.ok ? [] : r.errors;
    };
    expect(ok({ seedSource: "generate", seedMaxRounds: 5 }).ok).toBe(true);
    expect(ok({ seedSource: "import", seedTripletsFile: "azr/qwen_seed_io.jsonl", seedInductionFile: "qwen_code_f_seed_io.jsonl" }).ok).toBe(true);
    expect(errors({ seedSource: "import" })).toEqual(["azr.seedSource: 'import' needs seedTripletsFile, seedInductionFile, seedTripletsJsonl or seedInductionJsonl"]);
    expect(errors({ seedSource: "import", seedTripletsFile: "  " })[0]).toMatch(/^azr.seedSource: 'import' needs/);
    for (const bad of ["../etc/passwd", "/etc/passwd", "a/../../b", "./x.jsonl", "a b.jsonl"]) {
      expect(errors({ seedSource: "import", seedTripletsFile: bad }), bad).toEqual([expect.stringMatching(/^azr.seedTripletsFile: must be a relative path under the server's seed directory/)]);
    }
    expect(errors({ seedTripletsFile: "x.jsonl" })).toEqual(["azr.seedTripletsFile: is read only when seedSource is 'import' (it is 'identity')"]);
    // The launch form sends "" for a cleared field: not given.
    expect(ok({ seedTripletsFile: "" }).ok).toBe(true);
    expect(errors({ seedSource: "import", seedTripletsFile: "a.jsonl", seedTripletsJsonl: '{"snippet":"def f(a):\\n    return a","input":"1","output":"1"}' })).toEqual([
      "azr.seedTripletsJsonl: give seedTripletsFile or seedTripletsJsonl, not both",
    ]);
    const row = JSON.stringify({ snippet: "def f(a):\n    return a", input: "1", output: "1", imports: [] });
    expect(ok({ seedSource: "import", seedTripletsJsonl: `${row}\n${row}\n` }).ok).toBe(true);
    expect(errors({ seedSource: "import", seedTripletsJsonl: `${row}\n{"snippet": "def f(a): return a", "input": "1", "output": "f(1)"}\nnot json` })).toEqual([
      expect.stringMatching(/^azr\.seedTripletsJsonl: line 2: output: not a Python literal .*; line 3: invalid JSON/),
    ]);
    expect(errors({ seedSource: "import", seedInductionJsonl: "\n\n" })[0]).toMatch(/^azr.seedSource: 'import' needs/);
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
