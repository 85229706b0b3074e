import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type AzrClient } from "@azr/client";
import { seedRun } from "@azr/api/testing";
import { launchChromium, screenshotDir, startStack, type Stack } from "./harness.ts";

// Runs the tests create through the API or the form are real: the control plane schedules them on
// its local pool, where the real tiny worker trains on the CPU and model-written code runs in
// bwrap sandboxes (one run launched from the form is watched live through two steps). Pages
// that need a long history (2,000 steps: downsampled charts, checkpoints, samples, compare) use
// runs seeded straight into the database with the API's own seedRun helper.
const SEEDED_KEYS = ["reward/solve/mean", "reward/deduction/propose", "reward/deduction/solve", "propose/deduction/valid_rate", "buffer/deduction", "buffer/abduction", "train/loss", "time/generate_ms", "time/train_ms"];

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let azr: AzrClient;
let adminId: string;

const shot = (name: string) => page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });

describe("the dashboard in headless Chromium against a real control plane", () => {
  beforeAll(async () => {
    stack = await startStack();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    page.on("dialog", (d) => void d.accept()); // confirm() before cancel and revoke
    azr = createClient({ url: stack.apiUrl, token: stack.token });
    adminId = (await azr.tokens.whoami.query()).userId;
  });
  afterAll(async () => {
    await azr?.close();
    await browser?.close();
    await stack?.close();
  });

  it("sends a signed-out visit to sign-in, and refuses a bad token", async () => {
    await page.goto(`${stack.webUrl}/runs/abc?x=1`);
    await page.waitForURL(/\/signin\?next=/);
    expect(new URL(page.url()).searchParams.get("next")).toBe("/runs/abc?x=1");
    await page.fill("#token", `azr_pat_${"A".repeat(43)}`); // well-formed, but no such token
    await page.click("button[type=submit]");
    const alert = page.locator("p.error[role=alert]");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/token/i);
    expect(page.url()).toContain("/signin");
    await shot("signin");
  });

  it("signs in with the API token (kept nowhere in the browser) and lists a run created through the API", async () => {
    const run = await azr.runs.create.mutate({ preset: "tiny-cpu", name: "api-made-run", tags: ["e2e"] });
    await page.goto(`${stack.webUrl}/signin`);
    await page.fill("#token", stack.token);
    await page.click("button[type=submit]");
    await page.waitForURL(`${stack.webUrl}/`);
    const row = page.locator(`tr[data-run-id="${run.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain("api-made-run");
    // The badge follows the run's status as the control plane reports it.
    await expect.poll(async () => (await row.locator("[data-testid=status]").textContent()) === (await azr.runs.get.query({ id: run.id })).status, { timeout: 15_000 }).toBe(true);
    // The session is an HttpOnly cookie; the token is in no storage the page can read.
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === "azr_session")).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
    expect(stored).not.toContain(stack.token);
    expect(await page.locator("[data-testid=whoami]").textContent()).toBe("admin · admin");
    // Search filters the list on the server.
    await page.fill("input[aria-label=search]", "no-such-run");
    await page.locator("text=No runs match").waitFor();
    await page.fill("input[aria-label=search]", "api-made");
    await row.waitFor();
    await shot("runs-list");
    await azr.runs.cancel.mutate({ id: run.id }); // the local pool runs one at a time: free it for the form's run
  });

  it("cancels a run from its page and shows the status change live", async () => {
    // A queued run (seeded: nothing schedules it, so it waits until cancelled).
    const run = await seedRun(stack.db, adminId, { name: "waiting-run", status: "queued" });
    await page.goto(`${stack.webUrl}/runs/${run.id}`);
    await page.locator("[data-testid=run-name]").waitFor();
    await page.locator("text=● live").waitFor();
    await page.click("text=Cancel run");
    await page.locator("h1 [data-testid=status]", { hasText: "cancelled" }).waitFor({ timeout: 30_000 });
    expect((await azr.runs.get.query({ id: run.id })).status).toBe("cancelled");
    await page.click("role=tab[name=/events/]");
    await page.locator("[data-testid=event-log]", { hasText: "cancelled" }).waitFor();
  });

  it("draws a run's downsampled charts on canvas and adds new metrics live", async () => {
    const run = await seedRun(stack.db, adminId, { name: "seeded-history", status: "completed", steps: 2000, keys: SEEDED_KEYS, checkpointSteps: [500, 1000], rollouts: 30 });
    await page.goto(`${stack.webUrl}/runs/${run.id}`);
    const charts = page.locator("[data-testid=chart]");
    await page.locator("[data-testid=chart] canvas").first().waitFor();
    const titles = await charts.evaluateAll((els) => els.map((e) => e.getAttribute("data-title")));
    expect(titles).toEqual(expect.arrayContaining(["Reward (task type × role)", "Valid-proposal rate", "Buffer size per task type", "Loss", "Step time breakdown (ms)"]));
    // Each chart got the server's downsampled series (at most 400 points of 2,000), drawn on canvas.
    const drawn = await page.locator("[data-testid=chart] [data-drawn]").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-drawn"))));
    expect(drawn.length).toBe(titles.length);
    for (const n of drawn) {
      expect(n).toBeGreaterThan(100);
      expect(n).toBeLessThanOrEqual(400);
    }
    // The canvas has real pixels: the reward chart is not blank.
    const inked = await page.locator("[data-title='Reward (task type × role)'] canvas").evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(1000);
    expect(await page.evaluate(() => performance.getEntriesByName("azr:first-chart").length)).toBe(1);
    await shot("run-page");
    expect(await page.locator("button", { hasText: "Cancel run" }).count()).toBe(0); // completed
    // A metric the run never logged before arrives over the WebSocket: its chart appears.
    expect(titles).not.toContain("Grad norm");
    const series = await stack.db.prisma.metricSeries.create({ data: { runId: run.id, key: "train/grad_norm" } });
    await stack.db.sql.query(`INSERT INTO "MetricPoint" ("seriesId", step, "wallTime", value) VALUES ($1, 2000, now(), 0.5), ($1, 2001, now(), 0.7)`, [series.id]);
    await page.locator("[data-title='Grad norm'] canvas").waitFor({ timeout: 20_000 });
    // x by wall time: the same charts, re-queried on the time axis.
    await page.selectOption("select[aria-label='x axis']", "time");
    await page.locator("[data-title='Loss'] .u-legend", { hasText: "time" }).waitFor();
    expect(await page.locator("[data-title='Loss'] [data-drawn]").getAttribute("data-drawn")).not.toBe("0");
    // Checkpoints and the config tab.
    await page.click("role=tab[name=checkpoints]");
    await page.locator("[data-testid=checkpoints] tbody tr", { hasText: "1000" }).waitFor();
    expect(await page.locator("[data-testid=checkpoints] tbody tr").count()).toBe(2);
    await page.locator("[data-testid=checkpoints] tr", { hasText: "step-500" }).locator("button:has-text('Pin')").click();
    await page.locator("[data-testid=checkpoints] tbody tr", { hasText: "📌 pinned" }).waitFor();
    expect((await azr.checkpoints.list.query({ runId: run.id })).items.map((c) => c.pinned)).toEqual([true, false]);
    await page.click("role=tab[name=/config/]");
    expect(await page.locator("[data-testid=config-yaml]").textContent()).toContain("batchSize: 4");
  });

  it("opens a run's samples, with filters", async () => {
    const { items } = await azr.runs.list.query({ name: "seeded-history" });
    await page.goto(`${stack.webUrl}/runs/${items[0]!.id}/samples`);
    const rows = page.locator("[data-testid=rollouts] tbody tr");
    await rows.first().waitFor();
    expect(await rows.count()).toBe(30);
    await page.selectOption("select[aria-label=role]", "propose");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=rollouts] tbody tr").length === 15);
    // A proposal with a program: its detail shows the program highlighted as Python.
    await rows.filter({ hasText: "def f(x)" }).first().click();
    await page.locator(".code .py-kw", { hasText: "def" }).waitFor();
    expect(await page.locator(".code .py-com").first().textContent()).toBe("# 50%_off");
    await shot("samples");
  });

  it("launches a tiny-cpu run from the form after an inline validation error, then watches its status and charts update live", async () => {
    await page.goto(`${stack.webUrl}/launch`);
    const batch = page.locator("input[name='azr.batchSize']");
    await batch.waitFor();
    expect(await batch.inputValue()).toBe("4"); // the tiny-cpu preset
    await batch.fill("-3");
    const err = page.locator("[data-field='azr.batchSize']");
    await err.waitFor();
    expect(await err.textContent()).toMatch(/>=\s*1/);
    expect(await batch.getAttribute("aria-invalid")).toBe("true");
    // Every other field keeps showing its value (preset or schema default) meanwhile.
    expect(await page.locator("input[name='optim.lr']").inputValue()).toBe("0.0001");
    expect(await page.locator("input[name='azr.taskTypes']").inputValue()).toBe("abduction, deduction, induction");
    expect(await page.locator("button.primary", { hasText: "Launch" }).isDisabled()).toBe(true);
    await shot("launch-invalid");
    // A short run for the test: two steps of two prompts per task type, short answers.
    await batch.fill("2");
    await err.waitFor({ state: "detached" });
    await page.fill("input[name='schedule.totalSteps']", "2");
    await page.fill("input[name='sampling.maxResponseLength']", "64");
    const yaml = await page.locator("[data-testid=yaml]").textContent();
    expect(yaml).toContain("batchSize: 2");
    expect(yaml).toContain("totalSteps: 2");
    await page.fill("input[name=name]", "form-launched");
    // Every status the run page's badge shows from here on, in order; the document is never
    // reloaded (launching navigates on the client, and so do the live updates).
    await page.evaluate(() => {
      const w = window as unknown as { azrStatuses: string[]; azrSameDocument: boolean };
      w.azrStatuses = [];
      w.azrSameDocument = true;
      const record = () => {
        const s = document.querySelector("h1 [data-testid=status]")?.textContent;
        if (s && s !== w.azrStatuses.at(-1)) w.azrStatuses.push(s);
      };
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.click("button.primary:has-text('Launch')");
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    const id = page.url().split("/").pop()!;
    const run = await azr.runs.get.query({ id });
    expect(run.name).toBe("form-launched");
    expect(run.config).toMatchObject({ azr: { batchSize: 2 }, schedule: { totalSteps: 2 }, sampling: { maxResponseLength: 64 } });
    expect(run.modelName).toBe("tiny");
    await page.locator("[data-testid=run-name]", { hasText: "form-launched" }).waitFor();
    expect(stack.apiOutput()).toMatch(/sandboxed executor runners \(bwrap\)/);

    // Its first step takes a while on the CPU: the page opens before any metric exists.
    const chart = page.locator("[data-testid=chart][data-title='Step time breakdown (ms)']");
    await page.locator("text=No metrics yet").waitFor();
    expect(await chart.count()).toBe(0);
    const drawn = () => chart.locator("[data-drawn]").getAttribute("data-drawn");
    // Step 1's points arrive over the WebSocket: the chart appears with one point per series...
    await chart.locator("[data-drawn='1']").waitFor({ timeout: 300_000 });
    // Every metric of the step is charted (a real run logs ~70 keys: more than one series request).
    expect(await page.locator("[data-testid=chart]").count()).toBeGreaterThan(10);
    expect(await page.locator("[data-testid=chart] .empty").count()).toBe(0);
    expect(await page.locator("[data-title='Loss'] [data-drawn]").getAttribute("data-drawn")).toBe("1");
    const handle = await chart.elementHandle();
    expect(await page.locator("h1 [data-testid=status]").textContent()).toMatch(/^(running|checkpointing)$/);
    // ...and the same chart gains step 2's points.
    await chart.locator("[data-drawn='2']").waitFor({ timeout: 300_000 });
    expect(await handle!.evaluate((el) => el.isConnected)).toBe(true);
    expect(await drawn()).toBe("2");
    await shot("run-live");
    // The status went queued → provisioning → running (⇄ checkpointing) → completed, or the run is
    // still finishing its last step: the transitions streamed into the timeline...
    await page.locator("h1 [data-testid=status]", { hasText: /^completed$/ }).waitFor({ timeout: 60_000 }).catch(() => undefined);
    await page.click("role=tab[name=/events/]");
    const transitions = await page.locator("[data-testid=event-log] .line").evaluateAll((lines) =>
      lines.map((l) => /\[transition (\w+)→(\w+)\]/.exec(l.textContent ?? "")?.slice(1, 3)).filter((t): t is string[] => !!t),
    );
    expect(transitions[0]).toEqual(["queued", "provisioning"]);
    expect(transitions.map((t) => t[1])).toContain("running");
    const final = transitions.at(-1)![1]!;
    expect(["completed", "running", "checkpointing"]).toContain(final);
    // ...and the badge followed them, live, in the same document.
    await expect.poll(() => page.locator("h1 [data-testid=status]").textContent(), { timeout: 15_000 }).toBe(final);
    const { statuses, sameDocument } = await page.evaluate(() => {
      const w = window as unknown as { azrStatuses?: string[]; azrSameDocument?: boolean };
      return { statuses: w.azrStatuses ?? [], sameDocument: w.azrSameDocument === true };
    });
    expect(sameDocument).toBe(true);
    expect(statuses).toContain("running");
    expect(statuses.at(-1)).toBe(final);
    const order = ["queued", "provisioning", "running", "checkpointing", "completed"];
    for (let i = 1; i < statuses.length; i++) {
      const [a, b] = [statuses[i - 1]!, statuses[i]!];
      expect(order.indexOf(b) > order.indexOf(a) || (a === "checkpointing" && b === "running"), `${statuses.join(" → ")}`).toBe(true);
    }
    const after = await azr.runs.get.query({ id });
    expect(after.currentStep).toBe(2);
    // Still checkpointing its last step: cancel it, unless it completes meanwhile.
    if (after.status !== "completed") await azr.runs.cancel.mutate({ id }).catch(async (e: unknown) => expect((await azr.runs.get.query({ id })).status, String(e)).toBe("completed"));
  }, 720_000);

  it("compares two runs: overlaid curves, summary, a config diff of exactly the differing keys, a shareable URL", async () => {
    const a = await seedRun(stack.db, adminId, { name: "cmp-a", status: "completed", steps: 300, keys: ["train/loss", "reward/solve/mean"], config: { seed: 1, azr: { batchSize: 4, references: 2 }, optim: { lr: 0.001 } } });
    const b = await seedRun(stack.db, adminId, { name: "cmp-b", status: "completed", steps: 500, keys: ["train/loss", "reward/solve/mean"], config: { seed: 1, azr: { batchSize: 8, references: 2 }, optim: { lr: 0.002 } } });
    // Select both on the runs list, then Compare.
    await page.goto(`${stack.webUrl}/`);
    await page.check(`tr[data-run-id="${a.id}"] input[type=checkbox]`);
    await page.check(`tr[data-run-id="${b.id}"] input[type=checkbox]`);
    await page.click("[data-testid=compare-selected]");
    await page.waitForURL(/\/compare\?runs=/);
    expect(new URL(page.url()).searchParams.get("runs")).toBe(`${a.id},${b.id}`);
    const diff = page.locator("[data-testid=config-diff] tbody tr[data-key]");
    await diff.first().waitFor();
    expect(await diff.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key")))).toEqual(["azr.batchSize", "optim.lr"]);
    await page.locator("[data-title='train/loss'] .u-legend", { hasText: "cmp-a" }).waitFor();
    const legend = await page.locator("[data-title='train/loss'] .u-legend").textContent();
    expect(legend).toContain("cmp-a");
    expect(legend).toContain("cmp-b");
    expect(await page.locator("[data-testid=summary] tbody tr").count()).toBe(4);
    await shot("compare");
    // Two changes in a row, the second before the address has caught up with the first: both stay.
    await page.uncheck("label:has-text('reward/solve/mean') input[type=checkbox]");
    await page.fill("input[aria-label=smoothing]", "0.5");
    await page.waitForURL((u) => u.searchParams.get("smooth") === "0.5");
    expect(new URL(page.url()).searchParams.get("keys")).toBe("train/loss");
    await page.locator("[data-title='reward/solve/mean']").waitFor({ state: "detached" });
    // The URL is the state: opening it fresh (a shared link) shows the same comparison.
    const shared = await context.newPage();
    await shared.goto(page.url());
    await shared.locator("[data-testid=config-diff] tbody tr[data-key='optim.lr']").waitFor();
    await shared.close();
  });

  it("shows pools, models and tokens (an admin creates and revokes one)", async () => {
    await page.goto(`${stack.webUrl}/pools`);
    await page.locator("[data-testid=pools] tbody tr", { hasText: "local" }).waitFor();
    await page.goto(`${stack.webUrl}/models`);
    await page.locator("[data-testid=models] tbody tr").first().waitFor();
    await page.goto(`${stack.webUrl}/tokens`);
    await page.fill("input[aria-label='token name']", "ci-reader");
    await page.click("button:has-text('Create token')");
    const secret = (await page.locator("[data-testid=new-token] code").textContent())!;
    expect(secret).toMatch(/^azr_pat_/);
    await page.locator("[data-testid=tokens] tr", { hasText: "ci-reader" }).waitFor();
    await shot("tokens");
    const reader = createClient({ url: stack.apiUrl, token: secret });
    expect((await reader.tokens.whoami.query()).scope).toBe("read");
    await page.locator("[data-testid=tokens] tr", { hasText: "ci-reader" }).locator("button:has-text('Revoke')").click();
    await page.locator("[data-testid=tokens] tr", { hasText: "ci-reader" }).waitFor({ state: "detached" });
    await expect(reader.tokens.whoami.query()).rejects.toThrow();
    await reader.close();
  });
});
