import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BwrapBackend, ExecutorPool } from "@azr/executor";
import { checkFormat, primeResponse, type TripletTask } from "@azr/azr";
import { buildCorpus, bytes, checkItem, itemText, solveCompletion, tripletProposalCompletion, type Corpus, type CorpusItem } from "./corpus.ts";
import { DEMO_TINY_CONFIG, demoRunConfig } from "./config.ts";
import { DEMO_CORE_FAMILIES, FAMILY_NAMES, IDENTITY } from "./programs.ts";

// The corpus against the real sandbox: deterministic for a seed, and every text is a real
// prompt followed by a completion that @azr/azr judges valid (proposals) or correct (answers).

let pool: ExecutorPool;
const config = demoRunConfig();
const exec = (r: Parameters<ExecutorPool["run"]>[0]) => pool.run(r);
const build = (seed: number, size: number) => buildCorpus({ seed, size, config, exec, contextBytes: DEMO_TINY_CONFIG.contextLength });
let a: Corpus;

beforeAll(async () => {
  pool = await new ExecutorPool(new BwrapBackend(), { runners: 2 }).start();
  a = await build(7, 180);
});
afterAll(async () => {
  await pool?.close();
});

describe("demo corpus", () => {
  it("is the same for the same seed and differs for another", async () => {
    const again = await build(7, 180);
    expect(again.items.map(itemText)).toEqual(a.items.map(itemText));
    expect(again.stats).toEqual(a.stats);
    const other = await build(8, 180);
    expect(other.items.map(itemText)).not.toEqual(a.items.map(itemText));
  });

  it("covers all six groups with real prompts, within the byte budgets", () => {
    expect(a.stats.items).toBe(180);
    expect(a.stats.rejected).toBe(0);
    expect(Object.keys(a.stats.byGroup).sort()).toEqual([
      "abduction.propose",
      "abduction.solve",
      "deduction.propose",
      "deduction.solve",
      "induction.propose",
      "induction.solve",
    ]);
    for (const n of Object.values(a.stats.byGroup)) expect(n).toBeGreaterThanOrEqual(15);
    for (const it of a.items) {
      expect(it.prompt.endsWith("Assistant: <think>")).toBe(true);
      expect(checkFormat(primeResponse(it.completion))).toBe(true);
      expect(bytes(it.prompt) + bytes(it.completion) + 2).toBeLessThanOrEqual(DEMO_TINY_CONFIG.contextLength);
      expect(bytes(it.completion) + 1).toBeLessThanOrEqual(config.sampling.maxResponseLength);
    }
    // Step-1 prompts (seed buffers only) are in it, and most template families are.
    expect(a.items.some((i) => i.role === "propose" && i.type !== "induction" && i.prompt.includes("'Hello world'") && !i.prompt.includes("<snippet_1>"))).toBe(true);
    const snippets = new Set(a.items.filter((i) => i.role === "propose" && i.type !== "induction").map((i) => /```python\n([\s\S]*?)\n```/.exec(i.completion)?.[1]));
    expect(snippets.size).toBe(DEMO_CORE_FAMILIES.length);
  });

  it("every proposal validates and every answer scores 1 in the sandbox, judged by @azr/azr", async () => {
    const checks = await Promise.all(a.items.map((it) => checkItem(it, config, exec)));
    const failures = checks.map((c, i) => (c.ok ? undefined : `${a.items[i]!.type}.${a.items[i]!.role}: ${c.reason}`)).filter(Boolean);
    expect(failures).toEqual([]);
    // Gold outputs are real executions: a deduction answer carries the repr the sandbox returned.
    const ded = a.items.find((i): i is Extract<CorpusItem, { role: "solve" }> => i.role === "solve" && i.type === "deduction" && i.task.snippet !== IDENTITY.snippet);
    expect(ded).toBeDefined();
    expect(ded!.completion).toContain((ded!.task as TripletTask).output);
  });

  it("all thirty template families validate as proposals, induction tasks and answers", async () => {
    expect(FAMILY_NAMES.length).toBe(30);
    const all = await buildCorpus({ seed: 3, size: 240, config, exec, contextBytes: DEMO_TINY_CONFIG.contextLength, families: FAMILY_NAMES });
    expect(all.stats.rejected).toBe(0);
    const snippets = new Set(all.items.filter((i) => i.role === "propose" && i.type !== "induction").map((i) => /```python\n([\s\S]*?)\n```/.exec(i.completion)?.[1]));
    expect(snippets.size).toBeGreaterThanOrEqual(25);
    const checks = await Promise.all(all.items.map((it) => checkItem(it, config, exec)));
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });

  it("the same checks reject wrong answers and broken proposals", async () => {
    const solve = a.items.find((i): i is Extract<CorpusItem, { role: "solve" }> => i.role === "solve" && i.type === "deduction")!;
    const task = solve.task as TripletTask;
    const wrong = solveCompletion("deduction", { ...task, output: task.output === "0" ? "1" : "0" }, IDENTITY);
    expect(await checkItem({ ...solve, completion: wrong }, config, exec)).toMatchObject({ ok: false });

    const propose = a.items.find((i): i is Extract<CorpusItem, { role: "propose" }> => i.role === "propose" && i.type === "abduction")!;
    const crashing = { ...IDENTITY, snippet: "def f(a):\n    return a[10]" };
    expect(await checkItem({ ...propose, completion: tripletProposalCompletion(crashing, "[1, 2]") }, config, exec)).toEqual({
      ok: false,
      reason: expect.stringContaining("runtime-error"),
    });
    const banned = { ...IDENTITY, snippet: "import random\ndef f(a):\n    return a" };
    expect(await checkItem({ ...propose, completion: tripletProposalCompletion(banned, "1") }, config, exec)).toMatchObject({ ok: false });
  });
});
