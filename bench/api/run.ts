// bench/api: API latency on PostgreSQL through the real server process (apps/server, spawned) and
// the real client path (@azr/client over loopback HTTP), with a baseline in the same run.
//
//   npx tsx bench/api/run.ts [--runs 300] [--metric-runs 20] [--keys 100] [--steps 2000]
//                            [--rollouts 200000] [--rate 200] [--duration 30]
//
// The full size is 300 runs × 100 keys × 2,000 steps (60M points); the defaults keep the
// run count and the per-series shape but give metrics to 20 runs (4M points) so the dataset builds
// in a few minutes on a 2-core CI machine. Every figure is printed with the row counts it ran on.
//
// Measured (p50/p95/max ms):
//   series      metrics.series, 1 run × 1 key, 2,000 → 500 points (target p95 < 30 ms);
//               baseline: the same 2,000 raw points read with Prisma and bucketed in JS
//   compare     compare.runs, 5 runs × 10 keys with aligned series (target p95 < 150 ms)
//   search      samples.rollouts full-text search over all rollouts of a run (target p95 < 100 ms)
//   runsList    runs.list at a fixed arrival rate (open loop: latency counts from the scheduled
//               send time, so a slow server cannot hide queueing) (target p95 < 30 ms)
// Each also reports serverCpuMsPerRequest, the server process's CPU time per call: latency on a
// shared 2-core machine follows the other processes' load, this figure hardly does.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { generateToken } from "@azr/api";
import { createClient } from "@azr/client";
import { createTestDatabase } from "@azr/db/testing";
import { benchArgs } from "../options.ts";

const args = benchArgs(import.meta.url, {
  runs: { type: "string" },
  "metric-runs": { type: "string" },
  keys: { type: "string" },
  steps: { type: "string" },
  rollouts: { type: "string" },
  rate: { type: "string" },
  duration: { type: "string" },
});
const N = {
  runs: args.number("runs", 300, { min: 1 }),
  metricRuns: args.number("metric-runs", 20, { min: 1 }),
  keys: args.number("keys", 100, { min: 1 }),
  steps: args.number("steps", 2000, { min: 2 }),
  rollouts: args.number("rollouts", 200_000, { min: 1 }),
};
if (N.metricRuns > N.runs) args.fail(`--metric-runs (${N.metricRuns}) cannot exceed --runs (${N.runs})`);
const rate = args.number("rate", 200, { min: 1 });
const durationS = args.number("duration", 30, { min: 1 });
const log = (s: string) => process.stderr.write(`${s}\n`);

const loadAtStart = loadavg()[0]!;
const tdb = await createTestDatabase("postgres");
const db = await tdb.open();
let server: ReturnType<typeof spawn> | undefined;
try {
  // ------------------------------------------------------------------ dataset
  const t0 = Date.now();
  const owner = await db.prisma.user.create({ data: { name: "bench" } });
  // Ended runs only: the server's orchestrator would launch queued runs and relaunch running ones
  // (real workers and sandboxes on the same cores), which is load, not API latency.
  await db.sql.query(
    `INSERT INTO "Run" (id, name, "ownerId", status, config, seed, tags, "poolName", "modelName", "totalSteps", "currentStep", "updatedAt", "createdAt")
     SELECT gen_random_uuid()::text, 'run-' || i, $1, (ARRAY['completed','failed','cancelled'])[1 + i % 3]::"RunStatus",
            jsonb_build_object('seed', i, 'azr', jsonb_build_object('batchSize', 4 + (i % 3) * 4, 'references', 6), 'optim', jsonb_build_object('lr', 1e-6 * (1 + i % 5), 'clipRatio', 0.2)),
            i, ARRAY['bench', 'group-' || (i % 10)], 'local', 'tiny', $2, $2, now(), now() - i * interval '1 minute'
       FROM generate_series(1, $3) AS i`,
    [owner.id, N.steps, N.runs],
  );
  const metricRuns = (await db.sql.query<{ id: string }>(`SELECT id FROM "Run" ORDER BY "createdAt" DESC LIMIT $1`, [N.metricRuns])).map((r) => r.id);
  await db.sql.query(
    `INSERT INTO "MetricSeries" ("runId", key, "lastStep", "lastValue", count)
     SELECT r, 'metric/' || lpad(k::text, 3, '0'), $2 - 1, 0, $2 FROM unnest($1::text[]) AS r, generate_series(0, $3 - 1) AS k`,
    [metricRuns, N.steps, N.keys],
  );
  // One statement per run keeps each transaction moderate.
  for (const runId of metricRuns) {
    await db.sql.query(
      `INSERT INTO "MetricPoint" ("seriesId", step, "wallTime", value)
       SELECT s.id, st, timestamp '2026-01-01' + st * interval '5 seconds', sin(st / 50.0 + s.id) + st / 1000.0 + random() * 0.1
         FROM "MetricSeries" s, generate_series(0, $2 - 1) AS st WHERE s."runId" = $1`,
      [runId, N.steps],
    );
  }
  log(`metrics: ${N.metricRuns * N.keys * N.steps} points in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const t1 = Date.now();
  const searchRun = metricRuns[0]!;
  // Realistic rollouts: reasoning prose plus a Python program, assembled from varied pieces.
  await db.sql.query(
    `INSERT INTO "Rollout" ("runId", step, "taskType", role, prompt, response, valid, "executorStatus", reward, "promptTokens", "responseTokens")
     SELECT $1, i % $3, (ARRAY['deduction','abduction','induction'])[1 + i % 3]::"TaskType", (ARRAY['propose','solve'])[1 + i % 2]::"TaskRole",
            'Design a Python function f and an input for it. Reference snippets follow.',
            '<think>Let me consider ' || (ARRAY['a sorting routine','a string transform','a running total','a dictionary count','a recursive walk','a sliding window'])[1 + i % 6]
              || ' that uses ' || (ARRAY['enumerate','zip','sorted','reversed','sum','max','min','collections.Counter'])[1 + (i / 7) % 8]
              || '. The trick is ' || md5(i::text) || ' so the output is deterministic.</think>' || chr(10)
              || '<answer>' || chr(10) || 'def f(' || (ARRAY['xs','s','n','grid','items'])[1 + i % 5] || '):' || chr(10)
              || '    acc_' || (i % 997) || ' = ' || (ARRAY['0','[]','{}','""'])[1 + i % 4] || chr(10)
              || '    for k, v in enumerate(' || (ARRAY['xs','s','range(n)','grid','items'])[1 + i % 5] || '):' || chr(10)
              || '        acc_' || (i % 997) || ' += v * ' || (i % 13) || chr(10)
              || '    return acc_' || (i % 997) || chr(10) || '</answer>',
            i % 4 <> 0, CASE WHEN i % 4 = 0 THEN 'error' ELSE 'ok' END, (i % 10) / 10.0, 420, 180
       FROM generate_series(1, $2) AS i`,
    [searchRun, N.rollouts, N.steps],
  );
  await db.sql.exec(`VACUUM ANALYZE`);
  log(`rollouts: ${N.rollouts} in ${((Date.now() - t1) / 1000).toFixed(0)} s`);
  const counts = Object.fromEntries(
    await Promise.all(
      ["Run", "MetricSeries", "MetricPoint", "Rollout"].map(async (t) => [t, (await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${t}"`))[0]!.n] as const),
    ),
  );

  // ------------------------------------------------------------------ the server process
  const token = generateToken("api");
  const main = fileURLToPath(new URL("../../apps/server/src/main.ts", import.meta.url));
  const url = await new Promise<string>((resolve, reject) => {
    server = spawn(process.execPath, ["--import", "tsx", main, "--port", "0", "--no-web"], {
      env: { ...process.env, DATABASE_URL: tdb.target.kind === "postgres" ? tdb.target.url : "", AZR_ADMIN_TOKEN: token },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    server.stdout!.on("data", onData);
    server.stderr!.on("data", onData);
    server.on("exit", (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  const client = createClient({ url, token });

  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const q = (p: number) => Number(s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(2));
    return { n: s.length, p50: q(0.5), p95: q(0.95), max: Number(s[s.length - 1]!.toFixed(2)) };
  };
  // CPU time the server process spent per request: unlike latency, it hardly moves with the load
  // other processes put on the machine (Linux /proc; null elsewhere).
  const serverCpuMs = () => {
    try {
      // utime + stime, fields 14 and 15 of /proc/PID/stat, in 10 ms clock ticks
      const f = readFileSync(`/proc/${server!.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
    } catch {
      return null;
    }
  };
  const cpuPerRequest = (before: number | null, n: number) => {
    const after = serverCpuMs();
    return before === null || after === null ? null : Number(((after - before) / n).toFixed(2));
  };
  async function time(n: number, fn: (i: number) => Promise<unknown>, warmup = 10) {
    for (let i = 0; i < warmup; i++) await fn(i);
    const xs: number[] = [];
    const cpu0 = serverCpuMs();
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await fn(i);
      xs.push(performance.now() - t);
    }
    return { ...stats(xs), serverCpuMsPerRequest: cpuPerRequest(cpu0, n) };
  }

  const [one] = metricRuns;
  const keyAt = (i: number) => `metric/${String(i % N.keys).padStart(3, "0")}`;
  const series = await time(200, (i) => client.metrics.series.query({ runIds: [metricRuns[i % metricRuns.length]!], keys: [keyAt(i)], points: 500 }));
  const check = await client.metrics.series.query({ runIds: [one!], keys: [keyAt(0)], points: 500 });
  if (check.series[0]!.buckets.length !== 500 || check.series[0]!.total !== N.steps) throw new Error("series check failed");
  // Baseline: raw points through Prisma, bucketed in JS (what a naive endpoint would do).
  const seriesIds = await db.prisma.metricSeries.findMany({ where: { runId: { in: metricRuns } }, select: { id: true } });
  const baseline = await time(100, async (i) => {
    const pts = await db.prisma.metricPoint.findMany({ where: { seriesId: seriesIds[i % seriesIds.length]!.id }, orderBy: { step: "asc" } });
    const buckets = new Map<number, { min: number; max: number; sum: number; n: number }>();
    const lo = pts[0]!.step;
    const hi = pts[pts.length - 1]!.step;
    for (const p of pts) {
      const b = Math.min(499, Math.floor(((p.step - lo) / (hi - lo)) * 500));
      const e = buckets.get(b) ?? { min: Infinity, max: -Infinity, sum: 0, n: 0 };
      e.min = Math.min(e.min, p.value);
      e.max = Math.max(e.max, p.value);
      e.sum += p.value;
      e.n++;
      buckets.set(b, e);
    }
    return buckets;
  });
  const compare = await time(50, (i) => {
    const runs = Array.from({ length: 5 }, (_, j) => metricRuns[(i + j) % metricRuns.length]!);
    return client.compare.runs.query({ runIds: runs, keys: Array.from({ length: 10 }, (_, j) => keyAt(i * 10 + j)), points: 500 });
  });
  const needles = ["collections.Counter", "recursive walk", "sliding window", "acc_123 ", "range(n)", "return acc_99", "running total", "sorted"];
  const search = await time(100, (i) => client.samples.rollouts.query({ runId: searchRun, search: needles[i % needles.length]!, limit: 50 }));
  const searchHits = (await client.samples.rollouts.query({ runId: searchRun, search: "acc_123 ", limit: 200 })).items.length;

  // Open-loop runs.list at a fixed arrival rate.
  const total = rate * durationS;
  const latencies: number[] = [];
  let errors = 0;
  // Failed requests have no latency; the first one says how they failed.
  let firstError: string | undefined;
  const start = performance.now() + 100;
  const listCpu0 = serverCpuMs();
  const inflight: Promise<void>[] = [];
  const listUrl = `${url}/trpc/runs.list?input=${encodeURIComponent(JSON.stringify({ limit: 50, tag: "bench" }))}`;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      fetch(listUrl, { headers: { authorization: `Bearer ${token}` } }).then(
        async (r) => {
          const body = await r.text();
          if (!r.ok) {
            errors++;
            firstError ??= `HTTP ${r.status}: ${body.slice(0, 200)}`;
          }
          latencies.push(performance.now() - due);
        },
        (e: unknown) => {
          errors++;
          firstError ??= `${String(e)}: ${String((e as { cause?: unknown }).cause ?? "")}`;
        },
      ),
    );
  }
  await Promise.all(inflight);
  const runsList = {
    ...stats(latencies),
    ratePerS: rate,
    durationS,
    errors,
    ...(firstError ? { firstError } : {}),
    achievedPerS: Number((latencies.length / ((performance.now() - start) / 1000)).toFixed(1)),
    serverCpuMsPerRequest: cpuPerRequest(listCpu0, total),
  };
  await client.close();
  // Should stay 0: a run the server launched would have competed for the cores being measured.
  const launched = (await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Run" WHERE status NOT IN ('completed', 'failed', 'cancelled')`))[0]!.n;

  const result = {
    bench: "api",
    database: "postgres",
    // Figures are only comparable on an otherwise idle machine: this says how busy it was.
    machine: { cpus: cpus().length, loadAverage1mAtStart: Number(loadAtStart.toFixed(2)), loadAverage1mAtEnd: Number(loadavg()[0]!.toFixed(2)), runsLaunchedByServer: launched },
    dataset: { ...N, rows: counts, note: `metric points for ${N.metricRuns} of ${N.runs} runs (issue size: 300 × 100 × 2,000 = 60M points)` },
    // The baseline runs in this process, not the server: it has no server CPU figure.
    series: { ...series, target: { p95Ms: 30 }, baselinePrismaJs: { n: baseline.n, p50: baseline.p50, p95: baseline.p95, max: baseline.max } },
    compare: { ...compare, runs: 5, keys: 10, target: { p95Ms: 150 } },
    search: { ...search, rowsSearched: N.rollouts, exampleHits: searchHits, target: { p95Ms: 100 } },
    runsList: { ...runsList, target: { p95Ms: 30 } },
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  server?.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 500));
  await db.close();
  await tdb.drop();
}
