import { createExecutor, type ExecutorPool } from "@azr/executor";
import type { RunRequest } from "@azr/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { parseRunConfig } from "./config.ts";
import { runStep, type GenerateRequest, type Generation, type StepIO } from "./driver.ts";
import { initialState } from "./state.ts";
import { completeProposal, prepareProposal } from "./step.ts";

// One AZR step against the real sandboxed executor (packages/executor, bubblewrap backend): the
// programs really run in Python, so gold outputs, invalid reasons and solver scores come from
// CPython. The model is a scripted double (no trained policy here): it writes the completions
// below, chosen to hit each validation outcome.

// Host uids of its own (when run as root): RLIMIT_NPROC counts per uid, so sharing the executor
// suite's uids while its fork-bomb cases run in parallel would make both flaky.
const UID_BASE = 2_000_104_000;
let unavailable = "";
const pool: ExecutorPool | undefined = await createExecutor({ backend: "bwrap", runners: 2, bwrap: { uidBase: UID_BASE } }).catch((e: Error) => {
  unavailable = e.message.split("\n")[0]!;
  return undefined;
});
afterAll(async () => {
  await pool?.close();
});

const config = (() => {
  const r = parseRunConfig({ azr: { batchSize: 8, learnabilitySamples: 4, inductionInputs: 4, references: 2 } });
  if (!r.ok) throw new Error(r.errors.join("; "));
  return r.config;
})();

const answer = (body: string) => `I considered the task.</think>\n<answer>\n${body}\n</answer>`;
const proposal = (code: string, input: string) => answer("```python\n" + code + "\n```\n```input\n" + input + "\n```");

/** Deduction proposals by index, with what the sandbox must make of them. */
const DEDUCTION = [
  proposal("def f(xs):\n    return sorted(xs)[::-1]", "[3, 1, 2]"), // valid, gold [3, 2, 1]
  proposal("def tally(words):\n    out = {}\n    for w in words:\n        out[w[0]] = out.get(w[0], 0) + len(w)\n    return out", "['apple', 'avocado', 'kiwi']"), // valid after rename
  proposal("import random\ndef f(x):\n    return random.random() + x", "1"), // banned import
  proposal("def f(x):\n    return x / 0", "1"), // runtime error
  proposal("_calls = []\ndef f(x):\n    _calls.append(x)\n    return len(_calls)", "5"), // nondeterministic
  proposal("def f(x):\n    return object()", "1"), // unserialisable
  proposal("def f(x):\n    return float('nan')", "1"), // nan != nan: nondeterministic
  proposal("def f(x)\n    return x", "1"), // syntax error
];

const LEARN: Record<string, string[]> = {
  "[3, 2, 1]": ["[3, 2, 1]", "[1, 2, 3]", "[3,2,1]", "(3, 2, 1)"], // 2 of 4 right
  "{'a': 12, 'k': 4}": ["{'k': 4, 'a': 12}", "{'k': 4, 'a': 12}", "{'k': 4, 'a': 12}", "{'k': 4, 'a': 12}"], // all right
};

class ScriptedModel implements StepIO {
  constructor(private readonly executor: ExecutorPool) {}

  async generate(requests: GenerateRequest[]): Promise<Generation[]> {
    return requests.map((r) => ({ text: this.write(r), tokens: 20 }));
  }

  private write(r: GenerateRequest): string {
    const index = Number(/\.(\d+)(?:\.l(\d+))?$/.exec(r.id)?.[1]);
    const attempt = Number(/\.l(\d+)$/.exec(r.id)?.[1] ?? -1);
    if (r.role === "propose") {
      if (r.type === "deduction") return DEDUCTION[index]!;
      if (r.type === "abduction") return index === 0 ? proposal("def f(s):\n    return s.upper() + s[::-1]", "'ab'") : "truncated <answer>";
      return index === 0 ? answer(["1", "'x'", "[1, 2]", "{'k': (1, 2)}"].map((i) => "```input\n" + i + "\n```").join("\n") + "\n```message\nEcho.\n```") : answer("```input\n1\n```\n```message\nm\n```");
    }
    if (r.type === "deduction") {
      const gold = Object.keys(LEARN).find((g) => r.prompt.includes(g === "[3, 2, 1]" ? "sorted(xs)" : "def f(words)"));
      if (attempt >= 0 && gold) return answer("```output\n" + LEARN[gold]![attempt] + "\n```");
      return answer("```output\n'Hello world'\n```");
    }
    if (r.type === "abduction") {
      if (attempt >= 0) return answer("```input\n" + (attempt % 2 === 0 ? "'ab'" : "'ba'") + "\n```");
      return answer("```input\n'Hello world'\n```");
    }
    return answer(index % 2 === 0 || attempt >= 0 ? "```python\ndef f(a):\n    return a\n```" : "```python\ndef f(a):\n    return str(a)\n```");
  }

  async execute(requests: RunRequest[]) {
    return this.executor.runAll(requests);
  }
}

describe.skipIf(!pool)(`a step against the real sandboxed executor${pool ? "" : ` (no sandbox: ${unavailable})`}`, { timeout: 120_000 }, () => {
  it("validates, judges and rewards from values computed by CPython", async () => {
    const state = initialState(config);
    const out = await runStep(state, config, new ScriptedModel(pool!), (t) => t.split(/\s+/).length);
    const verdicts = out.samples.filter((s) => s.role === "propose" && s.type === "deduction").map((s) => s.verdict!);
    expect(verdicts.map((v) => (v.valid ? `ok ${v.task.kind === "triplet" ? v.task.output : ""}` : v.reason))).toEqual([
      "ok [3, 2, 1]",
      "ok {'a': 12, 'k': 4}",
      "banned-import",
      "runtime-error",
      "nondeterministic",
      "unserialisable-output",
      "nondeterministic",
      "syntax",
    ]);
    const renamed = verdicts[1]!;
    expect(renamed.valid && renamed.task.snippet.startsWith("def f(words):")).toBe(true);

    const r = out.folded.rewards;
    expect(r["s1.deduction.propose.0"]).toBe(0.5); // solved 2 of 4
    expect(r["s1.deduction.propose.1"]).toBe(0); // always solved: paper mode gives 0
    expect(r["s1.deduction.propose.2"]).toBe(-1);
    // abduction: s.upper() + s[::-1] on 'ab' -> 'ABba'; attempts alternate 'ab' (right) and 'ba'
    const abd = out.samples.find((s) => s.id === "s1.abduction.propose.0")!;
    expect(abd.verdict).toMatchObject({ valid: true, task: { output: "'ABba'" } });
    expect(r["s1.abduction.propose.0"]).toBe(0.5);
    expect(r["s1.abduction.propose.1"]).toBe(-1);
    // induction: the identity program on four inputs; every attempt writes the identity, so s = 1
    const ind = out.samples.find((s) => s.id === "s1.induction.propose.0")!;
    expect(ind.verdict).toMatchObject({ valid: true, task: { outputs: ["1", "'x'", "[1, 2]", "{'k': (1, 2)}"] } });
    expect(r["s1.induction.propose.0"]).toBe(0);
    expect(out.samples.find((s) => s.id === "s1.induction.propose.1")!.verdict).toMatchObject({ valid: false, reason: "too-few-inputs" });

    // The solve batch at step 1 is the seeds: identity on 'Hello world', and the induction seed,
    // whose hidden inputs include an expression (dict(a=1, b=2)) evaluated in the sandbox.
    const solves = out.samples.filter((s) => s.role === "solve");
    expect(solves).toHaveLength(3 * 8);
    expect(solves.filter((s) => s.type !== "induction").every((s) => s.score === 1)).toBe(true);
    const induction = solves.filter((s) => s.type === "induction");
    expect(induction.map((s) => s.score)).toEqual([1, 0, 1, 0, 1, 0, 1, 0]); // str(a) fails on the int and dict inputs
    expect(out.folded.metrics.proposals.deduction).toMatchObject({ valid: 2, validRate: 0.25, invalidReasons: { "banned-import": 1, "runtime-error": 1, nondeterministic: 2, "unserialisable-output": 1, syntax: 1 } });
    expect(out.next.buffers.deduction.size).toBe(3);
  });

  it("applies both bannedCheck modes: strict also catches __import__, importlib and dotted names", async () => {
    const programs = {
      plainImport: "import random\ndef f(x):\n    return x",
      dunderImport: "def f(x):\n    return __import__('random').__name__ + x",
      importlib: "import importlib\ndef f(x):\n    return importlib.import_module('random').__name__ + x",
      dotted: "import os.path\ndef f(x):\n    return os.path.join(x, 'a')",
      clean: "import math\ndef f(x):\n    return x + str(math.pi)[:4]",
    };
    const verdictFor = async (mode: "strict" | "reference", code: string) => {
      const r = parseRunConfig({ azr: { bannedCheck: mode } });
      if (!r.ok) throw new Error(r.errors.join("; "));
      const item = { id: "b", type: "deduction" as const, prompt: "", promptTokens: 0, references: [] };
      const prepared = prepareProposal(item, proposal(code, "'p'"), r.config);
      if (prepared.stage !== "run") throw new Error(`not run: ${JSON.stringify(prepared)}`);
      const v = completeProposal(prepared, await pool!.run(prepared.request), r.config);
      return v.valid ? "valid" : v.reason;
    };
    const results: Record<string, [string, string]> = {};
    for (const [name, code] of Object.entries(programs)) results[name] = [await verdictFor("strict", code), await verdictFor("reference", code)];
    expect(results).toEqual({
      plainImport: ["banned-import", "banned-import"],
      dunderImport: ["banned-import", "valid"],
      importlib: ["banned-import", "valid"],
      dotted: ["banned-import", "valid"],
      clean: ["valid", "valid"],
    });
  });
});
