import type { ExecResult, RunRequest } from "@azr/protocol";
import { describe, expect, it } from "vitest";
import { SEED_TRIPLET } from "./buffers.ts";
import { parseRunConfig } from "./config.ts";
import type { GenerateRequest, Generation, StepIO } from "./driver.ts";
import { withTokenCounter, type CountTokens, type TokenCounting } from "./plan.ts";
import { seedRngState } from "./rng.ts";
import { runSeeding, type SeedingRound } from "./seeding.ts";

// Doubles: a model that proposes `def f(x): return x + k` for a counter k (repeating some, to
// exercise dedup), and a sandbox that evaluates exactly that family of programs.

const config = (() => {
  const r = parseRunConfig({ azr: { batchSize: 4, seedBatchFactor: 2, inductionInputs: 2, references: 2 } });
  if (!r.ok) throw new Error(r.errors.join("; "));
  return r.config;
})();

class Doubles implements StepIO {
  private k = 0;
  prompts: string[] = [];
  async generate(requests: GenerateRequest[]): Promise<Generation[]> {
    return requests.map((r) => {
      this.prompts.push(r.prompt);
      const body =
        r.type === "induction"
          ? "```input\n1\n```\n```input\n2\n```\n```message\nadd a constant\n```"
          : `\`\`\`python\ndef f(x):\n    return x + ${Math.floor(this.k++ / 2)}\n\`\`\`\n\`\`\`input\n10\n\`\`\``;
      return { text: `plan</think>\n<answer>\n${body}\n</answer>`, tokens: 5 };
    });
  }
  async execute(requests: RunRequest[]): Promise<ExecResult[]> {
    return requests.map((req) => {
      const k = Number(/return x \+ (\d+)/.exec(req.program)?.[1] ?? "0");
      return {
        id: req.id,
        status: "ok",
        stdout: "",
        stderr: "",
        durationMs: 1,
        calls: req.calls.map((c) => {
          const v = { t: "int" as const, v: String(req.program.includes("return a") ? Number(c) : Number(c) + k) };
          return [
            { status: "ok" as const, value: v },
            { status: "ok" as const, value: v },
          ];
        }),
      };
    });
  }
}

describe("seeding stage", () => {
  it("grows the triplet seeds to batch × factor without duplicates, then induction seeds", async () => {
    const io = new Doubles();
    const r = await runSeeding(config, io, withTokenCounter((t) => t.length), seedRngState(1));
    expect(r.complete).toBe(true);
    expect(r.triplets).toHaveLength(8);
    expect(r.triplets[0]).toEqual(SEED_TRIPLET);
    // each program is proposed twice in a row, so every round of 4 adds 2 new ones
    expect(r.triplets.slice(1).map((t) => t.output)).toEqual(["10", "11", "12", "13", "14", "15", "16"]);
    expect(r.rounds.triplets).toBe(4);
    expect(r.induction).toHaveLength(8);
    expect(r.induction[1]).toMatchObject({ inputs: ["1", "2"], outputs: ["1", "2"], message: "add a constant" });
    // induction seeds follow the programs in order: identity, x + 0, x + 1, ...
    expect(r.induction[2]).toMatchObject({ snippet: "def f(x):\n    return x + 1", outputs: ["2", "3"] });
    expect(new Set(r.induction.map((t) => t.snippet)).size).toBe(8);
    // later proposer prompts show earlier seeds as references
    expect(io.prompts.some((p) => p.includes("return x + 3"))).toBe(true);
  });

  it("stops after maxRounds and says it is incomplete", async () => {
    const io = new Doubles();
    io.execute = async (requests) => requests.map((req) => ({ id: req.id, status: "error" as const, stdout: "", stderr: "", durationMs: 1, calls: [] }));
    const r = await runSeeding(config, io, withTokenCounter((t) => t.length), seedRngState(1), { maxRounds: 3 });
    expect(r).toMatchObject({ complete: false, rounds: { triplets: 3, induction: 3 } });
    expect(r.triplets).toEqual([SEED_TRIPLET]);
  });

  it("reports every round with its sizes, and a rejecting report stops the stage", async () => {
    const rounds: SeedingRound[] = [];
    const r = await runSeeding(config, new Doubles(), withTokenCounter((t) => t.length), seedRngState(1), { onRound: (x) => void rounds.push(x) });
    expect(rounds.map((x) => [x.part, x.round, x.size])).toEqual([
      ["triplets", 1, 3], ["triplets", 2, 5], ["triplets", 3, 7], ["triplets", 4, 8],
      ["induction", 1, 4], ["induction", 2, 8],
    ]);
    expect(rounds[0]).toEqual({ part: "triplets", round: 1, maxRounds: 50, proposed: 4, valid: 4, added: 2, size: 3, target: 8 });
    expect(r.proposed).toEqual({ triplets: 16, induction: 8 });
    expect(r.valid).toEqual({ triplets: 16, induction: 8 });

    const stop = runSeeding(config, new Doubles(), withTokenCounter((t) => t.length), seedRngState(1), {
      onRound: (x) => {
        if (x.round === 2) throw new Error("cancelled");
      },
    });
    await expect(stop).rejects.toThrow("cancelled");
  });

  it("plans each round from the RNG state alone: a tokenizer that re-plans until it knows every count gets the same seeds", async () => {
    const direct = await runSeeding(config, new Doubles(), withTokenCounter((t) => t.length), seedRngState(7));
    // Like the orchestrator's worker tokenizer: unknown prompts count as too long, then the plan re-runs.
    const known = new Map<string, number>();
    let replans = 0;
    const lazy: TokenCounting = async (plan) => {
      for (;;) {
        const missing: string[] = [];
        const count: CountTokens = (t) => known.get(t) ?? (missing.push(t), Number.POSITIVE_INFINITY);
        const out = plan(count);
        if (missing.length === 0) return out;
        replans++;
        for (const t of missing) known.set(t, t.length);
      }
    };
    const viaWorker = await runSeeding(config, new Doubles(), lazy, seedRngState(7));
    expect(replans).toBeGreaterThan(0);
    expect(viaWorker).toEqual(direct);
  });

  it("seeds only the parts whose task types the run trains", async () => {
    const only = (taskTypes: ("abduction" | "deduction" | "induction")[]) => {
      const c = parseRunConfig({ azr: { ...config.azr, taskTypes } });
      if (!c.ok) throw new Error(c.errors.join("; "));
      return c.config;
    };
    const induction = await runSeeding(only(["induction"]), new Doubles(), withTokenCounter((t) => t.length), seedRngState(1));
    expect(induction.rounds.triplets).toBe(0);
    expect(induction.triplets).toEqual([SEED_TRIPLET]);
    // the double's induction proposals for the one (identity) program are all alike
    expect(induction.induction.map((t) => t.snippet)).toEqual([SEED_TRIPLET.snippet]);
    const triplets = await runSeeding(only(["deduction"]), new Doubles(), withTokenCounter((t) => t.length), seedRngState(1));
    expect(triplets.rounds).toEqual({ triplets: 4, induction: 0 });
    expect(triplets.complete).toBe(true);
  });
});
