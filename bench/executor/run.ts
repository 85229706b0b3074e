// Executor benchmark: AZR-shaped workloads on ~1,000 fixture programs, on the sandboxed pool
// (bwrap, Docker) and, in the same run, on a baseline reproducing the reference executor.
//   npx tsx bench/executor/run.ts [--backends bwrap,docker] [--runners N] [--rounds N]
//                                 [--workloads validation,induction,abduction-checks,full-step]
// Prints one JSON document.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ExecResult, PyValue, RunRequest } from "@azr/protocol";

type RunJob = Omit<RunRequest, "id" | "kind">;
import { BACKEND_NAMES, createBackend, ExecutorPool, checkSandboxAvailability } from "@azr/executor";
import { cpuPerJob, cpuSnapshot } from "./cpu-accounting.ts";
import { benchArgs } from "../options.ts";
import type { BackendName } from "@azr/executor";

interface Fixture {
  template: number;
  program: string;
  inputs: string[];
  solverProgram: string;
  solverInputs: string[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = (JSON.parse(readFileSync(path.join(here, "fixtures.json"), "utf8")) as { programs: Fixture[] }).programs;

const args = benchArgs(import.meta.url, { backends: { type: "string", default: "bwrap,docker" }, runners: { type: "string" }, rounds: { type: "string" }, workloads: { type: "string" } });
const runners = args.number("runners", availableParallelism(), { min: 1, max: 64 });
const wanted = args.string("backends")!.split(",").filter(Boolean) as BackendName[];
if (!wanted.length || wanted.some((b) => !BACKEND_NAMES.includes(b))) args.fail(`--backends takes a comma-separated list of ${BACKEND_NAMES.join(", ")} (got ${JSON.stringify(args.string("backends"))})`);

// Deterministic task selection for the full-step mix: 64 proposals per task type, 64 solver
// tasks per type, all distinct fixtures.
const order = fixtures.map((_, i) => i).sort((a, b) => ((a * 7919) % 1000) - ((b * 7919) % 1000));
const plan = {
  all: fixtures.map((_, i) => i),
  deduction: order.slice(0, 64),
  abduction: order.slice(64, 128),
  induction: order.slice(128, 192),
  solveAbduction: order.slice(192, 256),
  solveInduction: order.slice(256, 320),
};
const ALL_WORKLOADS = ["validation", "induction", "abduction-checks", "full-step"] as const;
type Workload = (typeof ALL_WORKLOADS)[number];
const WORKLOADS: readonly Workload[] = (() => {
  const asked = args.string("workloads")?.split(",").filter(Boolean);
  if (!asked) return ALL_WORKLOADS;
  const unknown = asked.filter((w) => !(ALL_WORKLOADS as readonly string[]).includes(w));
  if (unknown.length) args.fail(`unknown workload(s) ${unknown.join(", ")}; choose from ${ALL_WORKLOADS.join(", ")}`);
  // abduction-checks compares against the gold outputs the induction workload records.
  if (asked.includes("abduction-checks") && !asked.includes("induction")) args.fail("--workloads abduction-checks needs induction too");
  return ALL_WORKLOADS.filter((w) => asked.includes(w));
})();

// AZR's banned list (azr-spec.md section 2), checked the strict way during validation.
const CHECKS = {
  bannedModules: ["logging", "random", "multiprocessing", "pebble", "subprocess", "threading", "datetime", "time", "hashlib", "hmac", "bcrypt", "os.sys", "os.path", "sys.exit", "os.environ", "calendar"],
  bannedCheck: "strict" as const,
  rejectInputCall: true,
};
const LIMITS = { timeoutMs: 10_000, memoryMb: 512, maxOutputBytes: 65_536, maxValueBytes: 1 << 20 };

function pct(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const key = (v: PyValue) => JSON.stringify(v);

class Driver {
  private n = 0;
  latencies: number[] = [];
  jobs = 0;
  calls = 0;
  problems = 0;
  constructor(
    private readonly pool: ExecutorPool,
    private readonly concurrency: number,
  ) {}

  /** Runs a stage: all requests with bounded concurrency (a stage depends on the previous one). */
  async stage(reqs: RunJob[]): Promise<ExecResult[]> {
    const out = new Array<ExecResult>(reqs.length);
    let next = 0;
    const worker = async () => {
      while (next < reqs.length) {
        const i = next++;
        const req = { ...reqs[i]!, id: `j${this.n++}`, kind: "run" as const, limits: LIMITS };
        const t = performance.now();
        const r = await this.pool.run(req);
        this.latencies.push(performance.now() - t);
        this.jobs++;
        this.calls += req.calls.length * (req.repeat ?? 1);
        if (r.status !== "ok") this.problems++;
        out[i] = r;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, reqs.length) }, worker));
    return out;
  }
}

function okValues(r: ExecResult, repeatsMustAgree: boolean): PyValue[] | undefined {
  if (r.status !== "ok") return undefined;
  const out: PyValue[] = [];
  for (const row of r.calls) {
    const first = row[0];
    if (first?.status !== "ok") return undefined;
    if (repeatsMustAgree && row.some((c) => c.status !== "ok" || key(c.value) !== key(first.value))) return undefined;
    out.push(first.value);
  }
  return out;
}

async function runWorkload(pool: ExecutorPool, name: Workload, golds: Map<number, PyValue[]>) {
  const d = new Driver(pool, pool.size * 2);
  const validation = (i: number, n: number) => ({ program: fixtures[i]!.program, calls: fixtures[i]!.inputs.slice(0, n), repeat: 2, checks: CHECKS });
  const cpu0 = cpuSnapshot();
  const t0 = performance.now();
  let accepted = 0;
  if (name === "validation") {
    const rs = await d.stage(plan.all.map((i) => validation(i, 1)));
    accepted = rs.filter((r) => okValues(r, true)).length;
  } else if (name === "induction") {
    const rs = await d.stage(plan.all.map((i) => validation(i, 10)));
    rs.forEach((r, i) => {
      const v = okValues(r, true);
      if (v) golds.set(i, v);
    });
    accepted = golds.size;
  } else if (name === "abduction-checks") {
    const rs = await d.stage(plan.all.map((i) => ({ program: fixtures[i]!.program, calls: [fixtures[i]!.solverInputs[0]!], argsMode: "literal" as const })));
    accepted = rs.filter((r, i) => {
      const c = r.calls[0]?.[0];
      return c?.status === "ok" && key(c.value) === key(golds.get(i)![0]!);
    }).length;
  } else {
    // Proposals of the three types, validated (induction: 10 inputs each).
    const types = [
      ...plan.deduction.map((i) => ({ type: "deduction", i, n: 1 })),
      ...plan.abduction.map((i) => ({ type: "abduction", i, n: 1 })),
      ...plan.induction.map((i) => ({ type: "induction", i, n: 10 })),
    ];
    const vr = await d.stage(types.map((t) => validation(t.i, t.n)));
    const valid = types.flatMap((t, k) => {
      const v = okValues(vr[k]!, true);
      return v ? [{ ...t, gold: v }] : [];
    });
    // Learnability: 8 solver attempts per valid proposal. Abduction: the 8 proposed inputs run
    // against the one program in one job; induction: 8 answers = 8 programs on the 5 hidden
    // inputs; deduction answers are compared as literals, no execution.
    const learn: RunJob[] = [];
    for (const v of valid) {
      const fx = fixtures[v.i]!;
      if (v.type === "abduction") learn.push({ program: fx.program, calls: fx.solverInputs.slice(0, 8), argsMode: "literal" });
      if (v.type === "induction") for (let a = 0; a < 8; a++) learn.push({ program: fx.solverProgram, calls: fx.inputs.slice(5, 10), argsMode: "literal" });
    }
    const lr = await d.stage(learn);
    accepted += lr.filter((r) => r.status === "ok").length;
    // Solve batch: 64 tasks per type.
    const solve: RunJob[] = [
      ...plan.solveAbduction.map((i) => ({ program: fixtures[i]!.program, calls: [fixtures[i]!.solverInputs[1]!], argsMode: "literal" as const })),
      ...plan.solveInduction.map((i) => ({ program: fixtures[i]!.solverProgram, calls: fixtures[i]!.inputs.slice(5, 10), argsMode: "literal" as const })),
    ];
    const sr = await d.stage(solve);
    accepted += sr.filter((r) => r.status === "ok").length;
  }
  const wallS = (performance.now() - t0) / 1000;
  const cpu = cpuPerJob(cpu0, cpuSnapshot(), d.jobs);
  const lat = d.latencies.sort((a, b) => a - b);
  return {
    jobs: d.jobs,
    calls: d.calls,
    wallS: round(wallS),
    jobsPerS: round(d.jobs / wallS),
    callsPerS: round(d.calls / wallS),
    p50Ms: round(pct(lat, 0.5)),
    p99Ms: round(pct(lat, 0.99)),
    nonOkJobs: d.problems,
    accepted,
    cpuPerJob: cpu,
  };
}

async function trivialLatency(pool: ExecutorPool) {
  const lat: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    const r = await pool.run({ id: `t${i}`, kind: "run", program: "def f():\n    return 1", calls: [""] });
    lat.push(performance.now() - t);
    if (r.status !== "ok") throw new Error(`trivial job failed: ${JSON.stringify(r)}`);
  }
  lat.sort((a, b) => a - b);
  return { jobs: lat.length, p50Ms: round(pct(lat, 0.5)), p99Ms: round(pct(lat, 0.99)), maxMs: round(lat[lat.length - 1]!) };
}


type BaseFigures = { runs: number; wallS: number; runsPerS: number; p50Ms: number; p99Ms: number; cpuMsPerRun: number };

function baseline(workload: Workload): BaseFigures {
  const input = JSON.stringify({ ...plan, fixtures, workloads: [workload] });
  const r = spawnSync("/usr/bin/python3", [path.join(here, "baseline.py")], { input, encoding: "utf8", maxBuffer: 64 << 20, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`baseline failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as Record<Workload, BaseFigures>)[workload];
}

/** Kernel costs that bound a fork-per-program design on this machine (machine_costs.py). */
function machineCosts(): Record<string, number> {
  const r = spawnSync("/usr/bin/python3", ["-I", "-S", path.join(here, "machine_costs.py")], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`machine_costs.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : 0;
}

type Figures = Awaited<ReturnType<typeof runWorkload>>;

function summarise(rounds: Figures[], speedups: number[], referenceRuns: number) {
  const byWall = [...rounds].sort((a, b) => a.wallS - b.wallS);
  const mid = byWall[Math.floor((byWall.length - 1) / 2)]!;
  return { ...mid, referenceRuns, rounds: rounds.length, wallSAll: rounds.map((r) => r.wallS), speedupVsBaseline: round(median(speedups)), speedupAll: speedups };
}

async function main() {
  const rounds = args.number("rounds", 3, { min: 1, max: 100 });
  const result: Record<string, unknown> = {
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadavg: loadavg().map(round) },
    runners,
    fixtures: fixtures.length,
    rounds,
    notes: [
      "baseline: one persistent ProcessPoolExecutor worker, one job at a time, exec + signal timeout, no isolation (the reference's design); one run per (program, input) check as the reference does",
      "sandboxed pool: every program in its own forked child; all calls of one program in one job; deduction answers compared as literals outside the executor on both sides",
      "each round runs the baseline and then every backend on the same workload back to back; figures are the median round, speedup = median over rounds of baseline wall time / backend wall time",
      "cpuPerJob: CPU ms per job from /proc (machine = every CPU, whatever ran; zygote = each runner's PID 1, which only forks; supervisor = its child that does the per-job work; child = the job children; faults = minor page faults per job); baseline cpuMsPerRun covers its main process and its worker",
      "machineCosts: what this kernel charges per copy-on-write fault, per fresh-page fault, and for fork + exit of a bare python3 (bench/executor/machine_costs.py)",
    ],
  };
  result.machineCosts = machineCosts();
  const availability = await checkSandboxAvailability();
  const pools = new Map<BackendName, ExecutorPool>();
  for (const name of wanted) {
    const avail = availability.backends.find((b) => b.name === name);
    if (!avail?.available) {
      result[name] = { skipped: avail?.problem ?? "unavailable", fix: avail?.fix };
      continue;
    }
    const pool = await new ExecutorPool(createBackend(name), { runners }).start();
    await pool.runAll(Array.from({ length: 50 }, (_, i) => ({ id: `w${i}`, kind: "run" as const, program: "def f():\n    return 1", calls: [""] })));
    pools.set(name, pool);
  }
  try {
    const base: Record<string, BaseFigures[]> = {};
    const per = new Map<BackendName, Record<string, Figures[]>>();
    const speed = new Map<BackendName, Record<string, number[]>>();
    const golds = new Map<BackendName, Map<number, PyValue[]>>();
    for (let r = 0; r < rounds; r++) {
      for (const w of WORKLOADS) {
        const b = baseline(w);
        (base[w] ??= []).push(b);
        for (const [name, pool] of pools) {
          if (!golds.has(name)) golds.set(name, new Map());
          const m = await runWorkload(pool, w, golds.get(name)!);
          const p = per.get(name) ?? {};
          (p[w] ??= []).push(m);
          per.set(name, p);
          const s = speed.get(name) ?? {};
          (s[w] ??= []).push(round(b.wallS / m.wallS));
          speed.set(name, s);
        }
      }
    }
    result.baseline = Object.fromEntries(
      WORKLOADS.map((w) => {
        const xs = base[w]!;
        const mid = [...xs].sort((a, b) => a.wallS - b.wallS)[Math.floor((xs.length - 1) / 2)]!;
        return [w, { runs: mid.runs, wallS: round(mid.wallS), runsPerS: round(mid.runsPerS), p50Ms: round(mid.p50Ms), p99Ms: round(mid.p99Ms), cpuMsPerRun: mid.cpuMsPerRun, wallSAll: xs.map((x) => round(x.wallS)) }];
      }),
    );
    for (const [name, pool] of pools) {
      const out: Record<string, unknown> = {};
      for (const w of WORKLOADS) out[w] = summarise(per.get(name)![w]!, speed.get(name)![w]!, base[w]![0]!.runs);
      out.trivialLatency = await trivialLatency(pool);
      out.python = pool.runtime?.python;
      const m = pool.metrics();
      out.poolMetrics = { crashes: m.crashes, hungKilled: m.hungKilled, statuses: m.statuses };
      result[name] = out;
    }
    const bw = per.get("bwrap")?.["full-step"];
    const dk = per.get("docker")?.["full-step"];
    if (bw && dk) result.dockerThroughputVsBwrap = round(median(bw.map((b, i) => b.wallS / dk[i]!.wallS)));
  } finally {
    for (const pool of pools.values()) await pool.close();
  }
  process.stdout.write(JSON.stringify(result, null, 2) + "\n");
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

await main();
