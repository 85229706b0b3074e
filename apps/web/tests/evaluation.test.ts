import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type AzrClient } from "@azr/client";
import { seedRun } from "@azr/api/testing";
import { buildPrompt, createEvalExecutor, loadProblems, resolveBenchmark } from "@azr/eval";
import { completeEval, evaluateOnPolicy, transitionEval, type Policy } from "@azr/orchestrator";
import { launchChromium, screenshotDir, startStack, type Stack } from "./harness.ts";

// The dashboard's evaluation views against a real control plane. The evaluations are scored for
// real — the shipped HumanEval+-style fixture benchmark, @azr/eval's scorers in the bwrap sandbox,
// the orchestrator's evaluation path and store — on answers written here by hand: a test double
// for a trained model's output (no model that solves these problems runs in the test suite; the
// demo policy solves none of them, so two real evaluations would not differ).

const BENCH = "fixture-humaneval-plus";

/** Hand-written answers per problem: one right and one wrong. */
const RIGHT: Record<string, string> = {
  "HumanEval/0": "def has_close_pair(numbers, threshold):\n    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for j, b in enumerate(numbers) if i != j)",
  "HumanEval/1": "def mean_absolute_deviation(numbers):\n    m = sum(numbers) / len(numbers)\n    return sum(abs(x - m) for x in numbers) / len(numbers)",
  "HumanEval/2": "def is_prime(n):\n    return n >= 2 and all(n % k for k in range(2, int(n ** 0.5) + 1))",
  "HumanEval/3": "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
  "HumanEval/4": "import unicodedata\n\ndef count_vowels(s):\n    return sum(1 for ch in unicodedata.normalize('NFD', s) if ch.lower() in 'aeiou')",
  "HumanEval/5": "def rolling_max(numbers):\n    out = []\n    for x in numbers:\n        out.append(x if not out else max(out[-1], x))\n    return out",
  "HumanEval/6": "def power_of_two(n):\n    return 1 << n",
  "HumanEval/7": "def add(x, y):\n    return x + y",
};
const WRONG: Record<string, string> = {
  "HumanEval/0": "def has_close_pair(numbers, threshold):\n    return False",
  "HumanEval/1": "def mean_absolute_deviation(numbers):\n    return 0.0",
  "HumanEval/2": "def is_prime(n):\n    return n % 2 == 1",
  "HumanEval/3": "def fib(n):\n    return n",
  // Misses the accented vowels the plus inputs have.
  "HumanEval/4": "def count_vowels(s):\n    return sum(ch in 'aeiouAEIOU' for ch in s)",
  "HumanEval/5": "def rolling_max(numbers):\n    return sorted(numbers)",
  "HumanEval/6": "def power_of_two(n):\n    return n * 2",
  "HumanEval/7": "def add(x, y):\n    return x * y",
};
const IDS = Object.keys(RIGHT);
const completion = (code: string) => `I checked the examples.</think>\n<answer>\n\`\`\`python\n${code}\n\`\`\`\n</answer>`;

/** TEST DOUBLE for a checkpoint's policy: answers each problem's prompt with the recorded right
 * or wrong program. Only generation is asked of it. */
function answeringPolicy(solves: Set<string>, promptToId: Map<string, string>): Policy {
  return {
    countTokens: async (texts) => texts.map((t) => t.length),
    generate: async (batch) =>
      batch.prompts.map((prompt) => {
        const id = promptToId.get(prompt);
        if (!id) throw new Error(`answeringPolicy: unexpected prompt ${prompt.slice(0, 60)}`);
        const text = completion(solves.has(id) ? RIGHT[id]! : WRONG[id]!);
        return Array.from({ length: batch.n }, () => ({ text, rolloutId: null, promptTokens: prompt.length, completionTokens: text.length, finishReason: "stop" as const }));
      }),
    train: async () => {
      throw new Error("answeringPolicy only answers");
    },
    release: async () => {},
  };
}

let stack: Stack;
let browser: Browser;
let page: Page;
let azr: AzrClient;

const shot = (name: string) => page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });

describe("evaluation views in headless Chromium against a real control plane", () => {
  let runId: string;
  let otherRunId: string;
  const evalIds: Record<"early" | "late" | "other", string> = { early: "", late: "", other: "" };

  beforeAll(async () => {
    stack = await startStack();
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    page.on("dialog", (d) => void d.accept());
    azr = createClient({ url: stack.apiUrl, token: stack.token });
    const adminId = (await azr.tokens.whoami.query()).userId;
    const { prisma } = stack.db;

    const run = await seedRun(stack.db, adminId, { name: "evaluated-run", status: "completed", steps: 1000, keys: ["train/loss"], checkpointSteps: [500, 1000] });
    const other = await seedRun(stack.db, adminId, { name: "other-run", status: "completed", steps: 1000, keys: ["train/loss"], checkpointSteps: [1000] });
    [runId, otherRunId] = [run.id, other.id];

    // Each evaluation goes the way an eval job takes it: a queued row with its settings, running,
    // the benchmark answered and scored in the sandbox, then completed with its per-problem rows.
    const def = resolveBenchmark(BENCH);
    const executor = await createEvalExecutor(def);
    const promptToId = new Map((await loadProblems(def)).map((p) => [buildPrompt(def, p, "azr"), p.id]));
    try {
      const evaluate = async (forRun: string, step: number, solves: string[]) => {
        const checkpoint = await prisma.checkpoint.findFirstOrThrow({ where: { runId: forRun, step } });
        const row = await prisma.evalResult.create({
          data: { runId: forRun, checkpointId: checkpoint.id, step, modelName: "tiny", benchmark: BENCH, createdById: adminId, poolName: "local", settings: { definition: def, template: "azr", overrides: {} } },
        });
        await transitionEval(prisma, row.id, "running");
        const result = await evaluateOnPolicy({ def, template: "azr", policy: answeringPolicy(new Set(solves), promptToId), executors: async () => executor, tag: `eval/${BENCH}` });
        expect(await completeEval(prisma, row.id, result.scores, result.problems)).toBe(true);
        // The scorer agrees with the hand-written answers: exactly the intended problems pass.
        expect(result.problems.filter((p) => p.correct > 0).map((p) => p.problemId).sort()).toEqual([...solves].sort());
        return row.id;
      };
      evalIds.early = await evaluate(runId, 500, ["HumanEval/0", "HumanEval/1", "HumanEval/2", "HumanEval/4"]);
      evalIds.late = await evaluate(runId, 1000, ["HumanEval/1", "HumanEval/2", "HumanEval/3", "HumanEval/5", "HumanEval/7"]);
      evalIds.other = await evaluate(otherRunId, 1000, IDS);
    } finally {
      await executor.close();
    }

    await page.goto(`${stack.webUrl}/signin`);
    await page.fill("#token", stack.token);
    await page.click("button[type=submit]");
    await page.waitForURL(`${stack.webUrl}/`);
  });
  afterAll(async () => {
    await azr?.close();
    await browser?.close();
    await stack?.close();
  });

  it("shows the run's scores over checkpoints and its evaluations on the Evaluation tab", async () => {
    await page.goto(`${stack.webUrl}/runs/${runId}`);
    await page.click("role=tab[name=evaluation]");
    const rows = page.locator("[data-testid=evals] tbody tr[data-eval-id]");
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(2);
    // Newest first: step 1000 solved 5 of 8, step 500 solved 4 of 8.
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-eval-id")))).toEqual([evalIds.late, evalIds.early]);
    expect(await rows.locator("[data-testid=pass1]").allTextContents()).toEqual(["0.625", "0.5"]);
    expect(await rows.locator("[data-testid=status]").allTextContents()).toEqual(["completed", "completed"]);
    const card = page.locator(`[data-testid=eval-latest] [data-benchmark='${BENCH}']`);
    expect(await card.textContent()).toBe(`${BENCH} pass@1 · step 10000.625`);
    // The chart: one line (the benchmark) through its two checkpoints, drawn on canvas.
    const chart = page.locator("[data-title='pass@1 per benchmark over checkpoints']");
    await chart.locator("[data-drawn='2']").waitFor();
    expect(await chart.locator(".u-legend").textContent()).toContain(BENCH);
    await shot("run-evaluation");
  });

  it("opens the per-problem diff of two selected evaluations: exactly the problems that differ, with both answers", async () => {
    // Selected newest first; the diff still puts the earlier checkpoint as A.
    await page.check(`tr[data-eval-id="${evalIds.late}"] input[type=checkbox]`);
    await page.check(`tr[data-eval-id="${evalIds.early}"] input[type=checkbox]`);
    await page.click("[data-testid=diff-selected]");
    await page.waitForURL(/\/evals\/diff\?/);
    const url = new URL(page.url());
    expect([url.searchParams.get("a"), url.searchParams.get("b")]).toEqual([evalIds.early, evalIds.late]);

    const problems = page.locator("[data-testid=eval-diff] [data-problem-id]");
    await problems.first().waitFor();
    const listed = () => problems.evaluateAll((els) => els.map((e) => [e.getAttribute("data-problem-id"), e.getAttribute("data-category")]));
    expect(await listed()).toEqual([
      ["HumanEval/0", "a-only"],
      ["HumanEval/3", "b-only"],
      ["HumanEval/4", "a-only"],
      ["HumanEval/5", "b-only"],
      ["HumanEval/7", "b-only"],
    ]);
    expect(await page.locator("[data-testid=show-differ]").textContent()).toBe("solved by one only (5)");
    // Both answers side by side, as graded (the program, highlighted) with each side's verdict.
    for (const id of ["HumanEval/0", "HumanEval/3", "HumanEval/4", "HumanEval/5", "HumanEval/7"]) {
      const row = page.locator(`[data-problem-id="${id}"]`);
      const aSolves = (await row.getAttribute("data-category")) === "a-only";
      const [a, b] = [row.locator("[data-side=a]"), row.locator("[data-side=b]")];
      expect(await a.locator("[data-testid=extracted] .code").textContent()).toBe(aSolves ? RIGHT[id] : WRONG[id]);
      expect(await b.locator("[data-testid=extracted] .code").textContent()).toBe(aSolves ? WRONG[id] : RIGHT[id]);
      expect(await a.locator("[data-testid=verdict]").textContent()).toBe(aSolves ? "solved" : "wrong-answer");
      expect(await b.locator("[data-testid=verdict]").textContent()).toBe(aSolves ? "wrong-answer" : "solved");
      expect(await a.locator(".py-kw", { hasText: "def" }).count()).toBeGreaterThan(0);
    }
    expect(await page.locator("[data-testid=side-a]").textContent()).toContain("evaluated-run @ step 500");
    expect(await page.locator("[data-testid=side-b]").textContent()).toContain("evaluated-run @ step 1000");
    await shot("eval-diff");

    // Filters: each outcome, and text over the listed problems.
    await page.click("[data-testid=show-both]");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=eval-diff] [data-problem-id]").length === 2);
    expect((await listed()).map(([id]) => id)).toEqual(["HumanEval/1", "HumanEval/2"]);
    expect(new URL(page.url()).searchParams.get("show")).toBe("both");
    await page.click("[data-testid=show-neither]");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=eval-diff] [data-problem-id]").length === 1);
    expect(await listed()).toEqual([["HumanEval/6", "neither"]]);
    await page.click("[data-testid=show-a-only]");
    await page.locator("[data-problem-id='HumanEval/4']").waitFor();
    expect((await listed()).map(([id]) => id)).toEqual(["HumanEval/0", "HumanEval/4"]);
    // Typed key by key right after the click, before the address has caught up: no letter and
    // no click is lost.
    await page.click("[data-testid=show-differ]");
    await page.locator("input[aria-label='filter problems']").pressSequentially("rolling");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=eval-diff] [data-problem-id]").length === 1);
    expect(await listed()).toEqual([["HumanEval/5", "b-only"]]);
    expect(await page.inputValue("input[aria-label='filter problems']")).toBe("rolling");
    await page.waitForURL((u) => u.searchParams.get("q") === "rolling");
    expect(new URL(page.url()).searchParams.get("show")).toBeNull();
  });

  it("shows the latest score per benchmark in the runs list and in compare, with a diff link", async () => {
    await page.goto(`${stack.webUrl}/`);
    const cell = (id: string) => page.locator(`tr[data-run-id="${id}"] td[data-benchmark='${BENCH}']`);
    await cell(runId).locator("a").waitFor();
    expect(await cell(runId).textContent()).toBe("0.625");
    expect(await cell(otherRunId).textContent()).toBe("1");
    expect(await page.locator("[data-testid=eval-column]").allTextContents()).toEqual([BENCH]);
    await shot("runs-list-evaluation");

    await page.goto(`${stack.webUrl}/compare?runs=${runId},${otherRunId}`);
    const row = page.locator(`[data-testid=eval-summary] tr[data-benchmark='${BENCH}']`);
    await row.waitFor();
    expect(await row.locator("[data-testid=score]").allTextContents()).toEqual(["0.625", "1"]);
    await shot("compare-evaluation");
    await row.locator("[data-testid=eval-diff-link]").click();
    await page.waitForURL(/\/evals\/diff\?/);
    const url = new URL(page.url());
    expect([url.searchParams.get("a"), url.searchParams.get("b")]).toEqual([evalIds.late, evalIds.other]);
    // The other run solves everything: what differs is what the first run missed.
    const problems = page.locator("[data-testid=eval-diff] [data-problem-id]");
    await problems.first().waitFor();
    expect(await problems.evaluateAll((els) => els.map((e) => e.getAttribute("data-problem-id")))).toEqual(["HumanEval/0", "HumanEval/4", "HumanEval/6"]);
  });

  it("starts an evaluation of a checkpoint from the form and follows its status live", async () => {
    await page.goto(`${stack.webUrl}/runs/${runId}?tab=evaluation`);
    const form = page.locator("[data-testid=start-eval]");
    await form.locator(`label:has-text('${BENCH}') input`).waitFor();
    await form.locator("select[aria-label=checkpoint]").selectOption({ label: "step 500" });
    await form.locator("input[aria-label='problem limit']").fill("0");
    expect(await form.locator(".field-error").textContent()).toMatch(/above 0/);
    expect(await form.locator("button[type=submit]").isDisabled()).toBe(true);
    await form.locator("input[aria-label='problem limit']").fill("3");
    await form.locator(`label:has-text('${BENCH}') input`).check();
    await form.locator("button[type=submit]").click();
    const rows = page.locator("[data-testid=evals] tbody tr[data-eval-id]");
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(3);
    const started = (await azr.evals.list.query({ runId, status: ["queued", "running", "completed", "failed", "cancelled"] })).items.find((e) => !Object.values(evalIds).includes(e.id))!;
    expect(started).toMatchObject({ benchmark: BENCH, step: 500, origin: "user" });
    const newRow = page.locator(`tr[data-eval-id="${started.id}"]`);
    const shownFirst = await newRow.locator("[data-testid=status]").textContent();
    expect(["queued", "running", "failed"]).toContain(shownFirst);
    // The server's eval job takes it from here: it launches a worker for the run's model to
    // restore the checkpoint — a seeded one, with no weights where a real checkpoint keeps them,
    // so the job ends failed with the reason. The row follows it over the WebSocket, no reload.
    let ended: Awaited<ReturnType<typeof azr.evals.get.query>> | undefined;
    await expect
      .poll(async () => ((ended = await azr.evals.get.query({ id: started.id, limit: 1 })), ended.status), { timeout: 60_000, interval: 500 })
      .toMatch(/^(completed|failed|cancelled)$/);
    expect(ended!.status).toBe("failed");
    await newRow.locator("[data-testid=status]", { hasText: "failed" }).waitFor({ timeout: 15_000 });
    expect(await newRow.textContent()).toContain(ended!.error!.slice(0, 60));
    expect(await newRow.locator("[data-testid=started-by]").textContent()).toBe("admin");
    await shot("run-evaluation-started");
  });
});
