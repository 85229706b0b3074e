// bench/web: in headless Chromium (Debian's), the time from navigation start to the first chart
// drawn with data (the `azr:first-chart` performance mark the dashboard sets) for
//   runPage  the run page of a run with 10 metrics × 2,000 steps (the API bench's data shape)
//   compare  a 5-run × 10-metric compare page
// each with the dashboard's server-side downsampling (400 / 300 buckets) and, as the baseline in
// the same run, at full resolution (?points=2000: no downsampling). Target: < 1.5 s for both.
//
//   npx tsx bench/web/run.ts [--repeat 5]     (needs a production build: npm run build -w @azr/web;
//                                             AZR_WEB_DIST_DIR=dir uses apps/web/dir instead of .next)
//
// Prints JSON (median and max ms per page and mode, the machine's load average before and after:
// the figures are only comparable at a similar load) to stdout; progress to stderr.
import { loadavg } from "node:os";
import { seedRun } from "@azr/api/testing";
import { createClient } from "@azr/client";
import { launchChromium, startStack } from "../../apps/web/tests/harness.ts";
import { benchArgs } from "../options.ts";

const repeat = benchArgs(import.meta.url, { repeat: { type: "string" } }).number("repeat", 5, { min: 1, max: 100 });
const log = (s: string) => process.stderr.write(`${s}\n`);
const KEYS = ["reward/solve/mean", "reward/deduction/propose", "reward/deduction/solve", "propose/deduction/valid_rate", "solve/deduction/solve_rate", "buffer/deduction", "buffer/abduction", "train/loss", "train/grad_norm", "time/generate_ms"];

const loadBefore = loadavg().map((x) => Number(x.toFixed(2)));
const stack = await startStack();
const browser = await launchChromium();
try {
  const azr = createClient({ url: stack.apiUrl, token: stack.token });
  const adminId = (await azr.tokens.whoami.query()).userId;
  log("seeding 5 runs × 10 keys × 2,000 steps …");
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(await seedRun(stack.db, adminId, { name: `bench-${i}`, status: "completed", steps: 2000, keys: KEYS, config: { seed: i, azr: { batchSize: 4 * (i + 1) } } }));
  await azr.close();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const signIn = await context.newPage();
  const res = await signIn.request.post(`${stack.webUrl}/auth/session`, { data: { token: stack.token } });
  const { csrf, user, scope, expiresAt } = (await res.json()) as Record<string, string>;
  await signIn.goto(`${stack.webUrl}/signin`);
  await signIn.evaluate((s) => localStorage.setItem("azr.session", s), JSON.stringify({ csrf, user, scope, expiresAt }));
  await signIn.close();

  const measure = async (url: string): Promise<number> => {
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => performance.getEntriesByName("azr:first-chart").length > 0, undefined, { timeout: 30_000 });
    const t = await page.evaluate(() => performance.getEntriesByName("azr:first-chart")[0]!.startTime);
    if (process.env.BENCH_DEBUG) {
      const detail = await page.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
        const api = (performance.getEntriesByType("resource") as PerformanceResourceTiming[]).filter((r) => r.name.includes("/trpc")).map((r) => `${new URL(r.name).pathname.slice(6, 60)} ${Math.round(r.startTime)}→${Math.round(r.responseEnd)}`);
        return { responseEnd: Math.round(nav.responseEnd), domInteractive: Math.round(nav.domInteractive), dcl: Math.round(nav.domContentLoadedEventEnd), api };
      });
      log(JSON.stringify(detail));
    }
    await page.close();
    return t;
  };
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { medianMs: Math.round(s[Math.floor(s.length / 2)]!), maxMs: Math.round(s[s.length - 1]!), samples: s.length };
  };
  const compareUrl = `${stack.webUrl}/compare?runs=${runs.map((r) => r.id).join(",")}&keys=${KEYS.map(encodeURIComponent).join(",")}`;
  const cases: Record<string, string> = {
    runPage: `${stack.webUrl}/runs/${runs[0]!.id}`,
    runPageFullResolution: `${stack.webUrl}/runs/${runs[0]!.id}?points=2000`,
    compare: compareUrl,
    compareFullResolution: `${compareUrl}&points=2000`,
  };
  const out: Record<string, ReturnType<typeof stats>> = {};
  for (const [name, url] of Object.entries(cases)) {
    await measure(url); // warm-up (first compile of the route, caches)
    const xs = [];
    for (let i = 0; i < repeat; i++) xs.push(await measure(url));
    out[name] = stats(xs);
    log(`${name}: ${JSON.stringify(out[name])}`);
  }
  console.log(JSON.stringify({ bench: "web", data: { runs: 5, keysPerRun: KEYS.length, stepsPerRun: 2000 }, targetMs: 1500, loadAverage: { before: loadBefore, after: loadavg().map((x) => Number(x.toFixed(2))) }, results: out, meetsTarget: out.runPage!.medianMs < 1500 && out.compare!.medianMs < 1500 }, null, 2));
} finally {
  await browser.close();
  await stack.close();
}
