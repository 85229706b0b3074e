import { runRequestSchema, type CallOutcome, type ExecResult, type PyValue } from "@azr/protocol";
import { describe, expect, it } from "vitest";
import { createBuffers, SEED_INDUCTION, SEED_TRIPLET, TaskBuffer } from "./buffers.ts";
import { defaultRunConfig, parseRunConfig, type RunConfig } from "./config.ts";
import { foldStep, type ProposalOutcome, type SolveOutcome } from "./fold.ts";
import { planStep, type CountTokens } from "./plan.ts";
import { Rng } from "./rng.ts";
import { initialState, stateFromJson, stateToJson } from "./state.ts";
import { completeProposal, completeSolve, prepareProposal, prepareSolve } from "./step.ts";
import type { InductionTask, TripletTask } from "./types.ts";

// Test doubles: completions stand in for a trained model's outputs, and ExecResults for the
// executor's replies (the values are what CPython returns for these programs).

const words: CountTokens = (t) => t.split(/\s+/).filter(Boolean).length;
const ok = (value: PyValue): CallOutcome => ({ status: "ok", value });
const int = (v: number): PyValue => ({ t: "int", v: String(v) });
const exec = (id: string, calls: CallOutcome[][], status: ExecResult["status"] = "ok", program?: string): ExecResult => ({
  id,
  status,
  calls,
  stdout: "",
  stderr: "",
  durationMs: 3,
  ...(program ? { program } : {}),
});
const answer = (body: string) => `reasoning</think>\n<answer>\n${body}\n</answer>`;

function config(overrides: object = {}): RunConfig {
  const r = parseRunConfig({ azr: { batchSize: 4, learnabilitySamples: 4, references: 2, inductionInputs: 4 }, ...overrides });
  if (!r.ok) throw new Error(r.errors.join("; "));
  return r.config;
}

describe("step planner", () => {
  it("plans a propose and a solve batch per task type", () => {
    const c = defaultRunConfig();
    const s = initialState(c);
    const plan = planStep({ config: c, buffers: s.buffers, rng: s.rng, step: 1, countTokens: words });
    expect(plan.propose).toHaveLength(3 * 64);
    expect(plan.solve).toHaveLength(3 * 64);
    expect(plan.learnabilitySamples).toBe(8);
    expect(plan.propose.map((p) => p.type).slice(0, 1)).toEqual(["abduction"]);
    const ded = plan.propose.find((p) => p.type === "deduction")!;
    expect(ded.prompt).toContain("<snippet_0>\n```python\ndef f(a):\n    return a\n```\n```input\n'Hello world'\n```\n```output\n'Hello world'\n```\n</snippet_0>");
    expect(ded.prompt).toContain("logging, random, multiprocessing");
    expect(ded.prompt.endsWith("Assistant: <think>")).toBe(true);
    const ind = plan.propose.find((p) => p.type === "induction")!;
    expect(ind.prompt).toContain("def f(a):\n    return a\n\nf(<|YOUR INPUT WILL BE PLUGGED HERE|>)");
    expect(ind.prompt).toContain("propose 10 inputs");
    const indSolve = plan.solve.find((p) => p.type === "induction")!;
    expect(indSolve.prompt).toContain("```input_0\n'Hello world'\n```\n```output_0\n'Hello world'\n```");
    expect(indSolve.prompt).toContain("```input_2\ndict(a=1, b=2)\n```");
    expect(indSolve.prompt).not.toContain("input_3");
    expect(indSolve.prompt).not.toContain("1001101100010001");
  });

  it("re-plans a step identically from a checkpointed RNG state", () => {
    const c = config({ azr: { batchSize: 16, references: 3, referenceSampling: "recency" } });
    const state = initialState(c);
    const rng = new Rng(state.rng);
    for (let i = 0; i < 40; i++) state.buffers.deduction.add({ ...SEED_TRIPLET, input: `${i}`, output: `${i}` }, 1 + (i % 3));
    for (let i = 0; i < 40; i++) state.buffers.abduction.add({ ...SEED_TRIPLET, input: `'${i}'`, output: `'${i}'` }, 1 + (i % 4));
    rng.float();
    state.rng = rng.state();
    const checkpoint = JSON.parse(JSON.stringify(stateToJson({ ...state, step: 5 })));
    const original = planStep({ config: c, buffers: state.buffers, rng: state.rng, step: 5, countTokens: words });
    const restored = stateFromJson(checkpoint);
    expect(restored.ok).toBe(true);
    if (!restored.ok) return;
    const replanned = planStep({ config: c, buffers: restored.state.buffers, rng: restored.state.rng, step: restored.state.step, countTokens: words });
    expect(replanned).toEqual(original);
    // and a different state really gives a different plan
    const other = planStep({ config: c, buffers: state.buffers, rng: original.rngAfter, step: 5, countTokens: words });
    expect(other.propose.map((p) => p.prompt)).not.toEqual(original.propose.map((p) => p.prompt));
  });

  it("keeps proposer prompts within the token budget by resampling, then dropping references", () => {
    const big: TripletTask = { ...SEED_TRIPLET, snippet: `def f(a):\n    return a${" + 0".repeat(400)}` };
    const buffers = createBuffers(100, { triplets: [big, { ...big, input: "2" }, { ...big, input: "3" }] });
    const base = config();
    const plan0 = planStep({ config: base, buffers, rng: initialState(base).rng, step: 1, countTokens: words });
    const unconstrained = plan0.propose.find((p) => p.type === "deduction")!.promptTokens;
    const c = config({ azr: { batchSize: 4, references: 2, proposerPromptMaxTokens: unconstrained - 100, promptResampleAttempts: 2 } });
    const plan = planStep({ config: c, buffers, rng: initialState(c).rng, step: 1, countTokens: words });
    for (const p of plan.propose.filter((x) => x.type !== "induction")) {
      expect(p.promptTokens).toBeLessThanOrEqual(c.azr.proposerPromptMaxTokens);
      expect(p.references).toHaveLength(1);
      expect(words(p.prompt)).toBe(p.promptTokens);
    }
  });
});

describe("solve batch prompt length", () => {
  it("swaps tasks whose solver prompt is too long, and drops them if nothing fits", () => {
    const huge: TripletTask = { ...SEED_TRIPLET, snippet: `def f(a):\n    return a${" + 0".repeat(3000)}`, input: "'h'", output: "'h'" };
    const buffers = createBuffers(100, { triplets: [SEED_TRIPLET, huge] });
    buffers.deduction.add({ ...huge, input: "'i'", output: "'i'" }, 1);
    const c = config({ azr: { batchSize: 4, taskTypes: ["deduction"] }, sampling: { maxPromptLength: 2000 } });
    const plan = planStep({ config: c, buffers, rng: initialState(c).rng, step: 2, countTokens: words });
    expect(plan.solve.length).toBeGreaterThan(0);
    for (const s of plan.solve) {
      expect(s.promptTokens).toBeLessThanOrEqual(2000);
      expect(s.task).toEqual(SEED_TRIPLET);
    }
    expect(plan.solve.map((s) => s.id)).toEqual(plan.solve.map((_, i) => `s2.deduction.solve.${i}`));
    const onlyHuge = createBuffers(100, { triplets: [huge] });
    const none = planStep({ config: c, buffers: onlyHuge, rng: initialState(c).rng, step: 1, countTokens: words });
    expect(none.solve).toEqual([]);
  });
});

describe("proposals", () => {
  const c = config();
  const item = (type: "deduction" | "abduction" | "induction", references: TripletTask[] = [SEED_TRIPLET]) => ({
    id: `s1.${type}.propose.0`,
    type,
    prompt: "p",
    promptTokens: 1,
    references,
  });

  it("turns a well-formed deduction proposal into a validation request and then a task", () => {
    const completion = answer("```python\nimport math\ndef area(r):\n    return area(0) if r < 0 else math.floor(r * r)\n```\n```input\n3\n```");
    const prepared = prepareProposal(item("deduction"), completion, c);
    expect(prepared.stage).toBe("run");
    if (prepared.stage !== "run") return;
    const req = runRequestSchema.parse(prepared.request);
    expect(req).toMatchObject({
      kind: "run",
      program: "import math\ndef f(r):\n    return f(0) if r < 0 else math.floor(r * r)",
      imports: ["import math"],
      calls: ["3"],
      repeat: 2,
      argsMode: "expression",
      entry: "f",
      checks: { bannedCheck: "strict", rejectInputCall: true, renameToF: false },
      limits: { timeoutMs: 10_000, memoryMb: 512 },
    });
    expect(req.checks?.bannedModules).toContain("random");
    const verdict = completeProposal(prepared, exec(req.id, [[ok(int(9)), ok(int(9))]]), c);
    expect(verdict).toEqual({
      id: "s1.deduction.propose.0",
      type: "deduction",
      formatOk: true,
      valid: true,
      task: { kind: "triplet", snippet: req.program, input: "3", output: "9", imports: ["import math"] },
    });
  });

  it("rejects proposals before execution for format, parse and def-rule failures", () => {
    expect(prepareProposal(item("abduction"), "no tags at all", c)).toMatchObject({ stage: "invalid", reason: "format", formatOk: false });
    expect(prepareProposal(item("abduction"), answer("```input\n1\n```"), c)).toMatchObject({ stage: "invalid", reason: "no-code", formatOk: true });
    const two = answer("```python\ndef g(x):\n    return x\ndef f(x):\n    return g(x)\n```\n```input\n1\n```");
    expect(prepareProposal(item("abduction"), two, c)).toMatchObject({ stage: "invalid", reason: "multiple-functions" });
    const topLevel = config({ azr: { defRule: "top-level-f", batchSize: 4 } });
    expect(prepareProposal(item("abduction"), two, topLevel)).toMatchObject({ stage: "run" });
  });

  it("passes both banned-check modes through to the executor", () => {
    const completion = answer("```python\ndef f(x):\n    return x\n```\n```input\n1\n```");
    for (const mode of ["strict", "reference"] as const) {
      const prepared = prepareProposal(item("deduction"), completion, config({ azr: { bannedCheck: mode } }));
      expect(prepared.stage === "run" && prepared.request.checks?.bannedCheck).toBe(mode);
    }
  });

  it("reports executor failures as invalid reasons", () => {
    const prepared = prepareProposal(item("deduction"), answer("```python\nimport random\ndef f(x):\n    return random.random()\n```\n```input\n1\n```"), c);
    const verdict = completeProposal(prepared, { ...exec("x", [], "banned-import"), error: { type: "banned-import", message: "random" } }, c);
    expect(verdict).toMatchObject({ valid: false, reason: "banned-import", formatOk: true });
    expect(completeProposal(prepared, undefined, c)).toMatchObject({ valid: false, reason: "missing-result" });
    expect(completeProposal(prepared, exec("x", [[ok(int(1)), ok(int(2))]]), c)).toMatchObject({ valid: false, reason: "nondeterministic" });
  });

  it("builds induction proposals on the planned program", () => {
    const program: TripletTask = { kind: "triplet", snippet: "def f(x):\n    return x * 2", input: "1", output: "2", imports: ["import math"] };
    const inputs = ["1", "2", "'a'", "[1]"];
    const completion = answer(inputs.map((i) => "```input\n" + i + "\n```").join("\n") + "\n```message\ndouble it\n```");
    const prepared = prepareProposal(item("induction", [program]), completion, c);
    expect(prepared.stage).toBe("run");
    if (prepared.stage !== "run") return;
    expect(runRequestSchema.parse(prepared.request)).toMatchObject({ program: program.snippet, imports: ["import math"], calls: inputs, repeat: 2 });
    const values: PyValue[] = [int(2), int(4), { t: "str", v: "aa" }, { t: "list", v: [int(1), int(1)] }];
    const verdict = completeProposal(prepared, exec("x", values.map((v) => [ok(v), ok(v)])), c);
    expect(verdict).toMatchObject({
      valid: true,
      task: { kind: "induction", snippet: program.snippet, inputs, outputs: ["2", "4", "'aa'", "[1, 1]"], message: "double it", imports: ["import math"] },
    });
    const few = prepareProposal(item("induction", [program]), answer("```input\n1\n```\n```message\nm\n```"), c);
    expect(few).toMatchObject({ stage: "invalid", reason: "too-few-inputs", detail: "1 inputs" });
  });
});

describe("solver answers", () => {
  const c = config();
  const task: TripletTask = { kind: "triplet", snippet: "def f(a, b):\n    return a + b", input: "1, 2", output: "3", imports: [] };

  it("judges deduction answers without running anything", () => {
    expect(prepareSolve("d", "deduction", task, answer("```output\n3\n```"), c)).toEqual({ id: "d", type: "deduction", formatOk: true, stage: "judged", score: 1 });
    expect(prepareSolve("d", "deduction", task, answer("```output\n3.0\n```"), c)).toMatchObject({ score: 1 });
    expect(prepareSolve("d", "deduction", task, answer("```output\n4\n```"), c)).toMatchObject({ score: 0, formatOk: true });
    expect(prepareSolve("d", "deduction", task, "```output\n3\n```", c)).toMatchObject({ score: 0, formatOk: false });
  });

  it("runs abduction answers as literal argument lists", () => {
    const p = prepareSolve("a", "abduction", task, answer("```input\n0x1, 2\n```"), c);
    expect(p.stage).toBe("run");
    if (p.stage !== "run") return;
    const req = runRequestSchema.parse(p.request);
    expect(req).toMatchObject({ program: task.snippet, calls: ["1, 2"], argsMode: "literal", repeat: 1 });
    expect(JSON.stringify(req)).not.toContain('"3"');
    expect(completeSolve(p, exec("a", [[ok(int(3))]]), c)).toBe(1);
    expect(completeSolve(p, exec("a", [[ok(int(4))]]), c)).toBe(0);
    expect(prepareSolve("a", "abduction", task, answer("```input\n__import__('os')\n```"), c)).toMatchObject({ stage: "judged", score: 0, formatOk: true });
  });

  it("runs induction answers on the hidden inputs only, never sending hidden outputs", () => {
    const ind: InductionTask = {
      kind: "induction",
      snippet: "def f(x):\n    return x * 3",
      inputs: ["1", "2", "dict(a=7)", "'zz'"],
      outputs: ["3", "6", "{'a': 7, 'a2': 7777777}", "'zzzzzz'"],
      message: "triple",
      imports: [],
    };
    const p = prepareSolve("i", "induction", ind, answer("```python\ndef f(x):\n    return x * 3\n```"), c);
    expect(p.stage).toBe("run");
    if (p.stage !== "run") return;
    const req = runRequestSchema.parse(p.request);
    expect(req.calls).toEqual(["dict(a=7)", "'zz'"]);
    expect(req.argsMode).toBe("expression");
    expect(JSON.stringify(req)).not.toContain("7777777");
    expect(JSON.stringify(req)).not.toContain("zzzzzz");
    const values = [ok({ t: "dict", v: [[{ t: "str", v: "a2" }, { t: "int", v: "7777777" }], [{ t: "str", v: "a" }, int(7)]] }), ok({ t: "str", v: "zzzzzz" })];
    expect(completeSolve(p, exec("i", values.map((v) => [v])), c)).toBe(1);
    expect(completeSolve(p, exec("i", [[values[0]!], [ok({ t: "str", v: "z" })]]), c)).toBe(0);
    const acc = config({ azr: { inductionReward: "accuracy" } });
    expect(completeSolve(p, exec("i", [[values[0]!], [ok({ t: "str", v: "z" })]]), acc)).toBe(0.5);
    const literalOnly = prepareSolve("i", "induction", { ...ind, inputs: ["1", "2", "3", "(4, [5])"] }, answer("```python\ndef f(x):\n    return x\n```"), c);
    expect(literalOnly.stage === "run" && literalOnly.request).toMatchObject({ argsMode: "literal", calls: ["3", "(4, [5])"] });
    expect(prepareSolve("i", "induction", ind, answer("no code"), c)).toMatchObject({ stage: "judged", score: 0, formatOk: true });
  });
});

describe("folding a step", () => {
  const c = config({ azr: { batchSize: 4, learnabilitySamples: 4 } });
  const newTask: TripletTask = { kind: "triplet", snippet: "def f(x):\n    return -x", input: "5", output: "-5", imports: [] };
  const proposals: ProposalOutcome[] = [
    { verdict: { id: "p0", type: "deduction", formatOk: true, valid: true, task: newTask }, scores: [1, 0, 0, 0], tokens: 100 },
    { verdict: { id: "p1", type: "deduction", formatOk: true, valid: true, task: SEED_TRIPLET }, scores: [1, 1, 1, 1], tokens: 50 },
    { verdict: { id: "p2", type: "deduction", formatOk: true, valid: false, reason: "nondeterministic" }, scores: [], tokens: 70 },
    { verdict: { id: "p3", type: "deduction", formatOk: false, valid: false, reason: "format" }, scores: [], tokens: 300 },
  ];
  const solves: SolveOutcome[] = [
    { id: "s0", type: "abduction", formatOk: true, score: 1, tokens: 10 },
    { id: "s1", type: "abduction", formatOk: true, score: 0, tokens: 10 },
    { id: "s2", type: "abduction", formatOk: false, score: 0, tokens: 10 },
    { id: "s3", type: "induction", formatOk: true, score: 1, tokens: 10 },
  ];

  it("adds valid proposals, rewards every rollout and reports metrics", () => {
    const before = createBuffers(100);
    const folded = foldStep(before, { step: 2, proposals, solves }, c);
    expect(folded.rewards).toEqual({ p0: 0.75, p1: 0, p2: -1, p3: -1, s0: 1, s1: -0.5, s2: -1, s3: 1 });
    expect(before.deduction.size).toBe(1);
    expect(folded.buffers.deduction.entries()).toEqual([
      { task: SEED_TRIPLET, step: 0 },
      { task: newTask, step: 2 },
    ]);
    const m = folded.metrics;
    expect(m.proposals.deduction).toMatchObject({
      count: 4,
      valid: 2,
      validRate: 0.5,
      formatErrors: 1,
      invalidReasons: { nondeterministic: 1, format: 1 },
      added: 1,
      duplicates: 1,
      learnabilityMean: 0.375,
      solveHistogram: [0, 1, 0, 0, 1],
    });
    expect(m.solves.abduction).toEqual({ count: 3, solveRate: 1 / 3, formatErrors: 1 });
    expect(m.rewardMean["deduction.propose"]).toBeCloseTo((0.75 + 0 - 1 - 1) / 4, 12);
    expect(m.groupSizes["induction.solve"]).toBe(1);
    expect(m.bufferSizes).toEqual({ abduction: 1, deduction: 2, induction: 1 });
    expect(m.responseTokensMean["deduction.propose"]).toBe(130);
    // single-member group: zero advantage
    expect(folded.advantages.s3).toBe(0);
    // deduction.propose rewards [0.75, 0, -1, -1]: mean -0.3125, Bessel var = 0.8489583..., sequence stats
    const mean = -0.3125;
    const v = ([0.75, 0, -1, -1].reduce((a, r) => a + (r - mean) ** 2, 0) / 3) + 1e-8;
    expect(folded.advantages.p0).toBeCloseTo((0.75 - mean) / Math.sqrt(v), 12);
  });

  it("uses the reward mode and advantage statistics of the config", () => {
    const ref = config({ azr: { batchSize: 4, learnabilitySamples: 4, rewardMode: "reference", advantageStats: "token" } });
    const folded = foldStep(createBuffers(100), { step: 2, proposals, solves }, ref);
    expect(folded.rewards.p1).toBe(-0.5);
    // token stats: rewards [0.75, -0.5, -1, -1] weighted by tokens [100, 50, 70, 300]
    const r = [0.75, -0.5, -1, -1];
    const w = [100, 50, 70, 300];
    const n = 520;
    const mean = r.reduce((a, x, i) => a + x * w[i]!, 0) / n;
    const v = r.reduce((a, x, i) => a + w[i]! * (x - mean) ** 2, 0) / (n - 1) + 1e-8;
    expect(folded.advantages.p3).toBeCloseTo((-1 - mean) / Math.sqrt(v), 12);
  });

  it("respects the buffer cap", () => {
    const full = { ...createBuffers(1), deduction: new TaskBuffer<TripletTask>(1, [{ task: SEED_TRIPLET, step: 0 }]) };
    const folded = foldStep(full, { step: 2, proposals, solves: [] }, c);
    expect(folded.metrics.proposals.deduction).toMatchObject({ added: 0, droppedFull: 1, duplicates: 1 });
  });

  it("seeds the induction buffer with the reference's six heterogeneous pairs", () => {
    expect(SEED_INDUCTION.outputs).toEqual(["'Hello world'", "1", "{'a': 1, 'b': 2}", "(1.1, 1.2, 1.3)", "'[[1, 0, 0], [0, 0, 0], [0, 0, 0]]'", "1001101100010001"]);
  });
});
