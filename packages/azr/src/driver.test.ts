import type { ExecResult, PyValue, RunRequest } from "@azr/protocol";
import { describe, expect, it } from "vitest";
import { SEED_TRIPLET } from "./buffers.ts";
import { parseRunConfig } from "./config.ts";
import { runStep, type GenerateRequest, type Generation, type StepIO } from "./driver.ts";
import { parseArgs } from "./pyliteral.ts";
import { initialState } from "./state.ts";

// runStep's wiring with doubles for the model and the executor (the real executor is exercised
// in executor.integration.test.ts).

const config = (() => {
  const r = parseRunConfig({ azr: { batchSize: 2, learnabilitySamples: 2, inductionInputs: 2, references: 1 } });
  if (!r.ok) throw new Error(r.errors.join("; "));
  return r.config;
})();
const words = (t: string) => t.split(/\s+/).length;
const wrap = (body: string): Generation => ({ text: `thinking</think>\n<answer>\n${body}\n</answer>`, tokens: 10 });

class Doubles implements StepIO {
  readonly generated: GenerateRequest[][] = [];
  readonly executed: RunRequest[][] = [];
  async generate(requests: GenerateRequest[]): Promise<Generation[]> {
    this.generated.push(requests);
    return requests.map((r) => {
      if (r.role === "propose") {
        if (r.type === "induction") return wrap("```input\n'q'\n```\n```input\n7\n```\n```message\necho\n```");
        return r.id.endsWith(".0") ? wrap("```python\ndef f(x):\n    return x * 2\n```\n```input\n21\n```") : { text: "no format", tokens: 3 };
      }
      if (r.type === "deduction") return wrap(r.prompt.includes("x * 2") ? "```output\n42\n```" : "```output\n'Hello world'\n```");
      if (r.type === "abduction") return wrap(r.id.endsWith(".l1") ? "```input\n20\n```" : "```input\n21\n```");
      return wrap("```python\ndef f(a):\n    return a\n```");
    });
  }
  async execute(requests: RunRequest[]): Promise<ExecResult[]> {
    this.executed.push(requests);
    // Plays a sandbox that evaluates these particular programs: x * 2 and the identity.
    return requests.map((req) => ({
      id: req.id,
      status: "ok",
      stdout: "",
      stderr: "",
      durationMs: 1,
      calls: req.calls.map((c) => {
        const parsed = parseArgs(c);
        const arg: PyValue = parsed.ok && parsed.args.length === 1 ? parsed.args[0]! : { t: "str", v: c };
        const doubled: PyValue = req.program.includes("x * 2") && arg.t === "int" ? { t: "int", v: String(Number(arg.v) * 2) } : arg;
        return Array.from({ length: req.repeat ?? 1 }, () => ({ status: "ok" as const, value: doubled }));
      }),
    }));
  }
}

describe("runStep", () => {
  it("runs propose, validate, learnability, solve and fold in order", async () => {
    const io = new Doubles();
    const out = await runStep(initialState(config), config, io, words);
    // proposer prompts in one batch, then all solver prompts (learnability + solve) in one
    expect(io.generated.map((g) => g.length)).toEqual([6, 4 * 2 + 6]);
    expect(io.generated[1]!.filter((g) => !g.trained)).toHaveLength(4 * 2);
    // identical requests run once: the deduction and abduction proposals are the same program
    // and input (1), so are the two induction proposals (1); then induction solve (1), induction learnability (1, both
    // proposals are the same task), abduction learnability (2 distinct answers), abduction solve (1)
    expect(io.executed.map((e) => e.length)).toEqual([2, 5]);
    // valid: deduction .0, abduction .0, both induction proposals (identical, so one is a duplicate)
    expect(out.folded.metrics.proposals.deduction).toMatchObject({ count: 2, valid: 1, formatErrors: 1 });
    expect(out.folded.metrics.proposals.induction).toMatchObject({ valid: 2, added: 1, duplicates: 1 });
    // the deduction learnability attempts both answer 42 (correct): s = 1, paper reward 0
    expect(out.folded.rewards["s1.deduction.propose.0"]).toBe(0);
    // abduction attempts: 21 -> 42 correct, 20 -> 40 wrong: s = 0.5, reward 0.5
    expect(out.folded.rewards["s1.abduction.propose.0"]).toBe(0.5);
    expect(out.folded.rewards["s1.abduction.propose.1"]).toBe(-1);
    expect(out.samples).toHaveLength(12);
    expect(out.samples.every((s) => Number.isFinite(s.advantage))).toBe(true);
    expect(out.next.step).toBe(2);
    expect(out.next.rng).toEqual(out.plan.rngAfter);
    expect(out.next.buffers.deduction.entries().map((e) => [e.task.output, e.step])).toEqual([
      [SEED_TRIPLET.output, 0],
      ["42", 1],
    ]);
    // the next step's solver batch starts with this step's new tasks
    const out2 = await runStep(out.next, config, io, words);
    expect(out2.plan.solve.find((s) => s.type === "deduction")!.task).toMatchObject({ output: "42" });
  });

  it("refuses result lists of the wrong length", async () => {
    const io = new Doubles();
    io.execute = async () => [];
    await expect(runStep(initialState(config), config, io, words)).rejects.toThrow(/execute\(proposals\): expected 2 results, got 0/);
  });
});
