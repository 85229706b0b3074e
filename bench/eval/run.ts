// Scoring throughput of packages/eval, generation excluded, on this machine:
//  - code: a 400-problem EvalPlus-style benchmark with 10 tests per problem (one answer each),
//    ground truth included (computed once per problem in the sandbox, as a cold eval does);
//  - math: a 500-problem benchmark (one answer each).
// Problems are generated deterministically from the shapes of the shipped fixtures. Baselines in
// the same run: the naive job designs — one sandbox job per test case (code), and one job per
// answer that imports sympy itself and skips the exact / numeric shortcuts (math; measured on the
// first --math-baseline answers, default 100, since each job pays a sympy import).
//
//   npx tsx bench/eval/run.ts [--runners N] [--math-baseline N]
// Prints one JSON document.
import { cpus, loadavg } from "node:os";
import { Rng } from "@azr/azr";
import { createExecutor, type ExecutorPool } from "@azr/executor";
import { extractMathAnswer, loadProblems, resolveBenchmark, scoreProblems, type CodeProblem, type EvalPlusTests, type MathProblem, type ProblemResult } from "@azr/eval";
import { latexToSympy, normalizeAnswer } from "../../packages/eval/src/math-normalize.ts";
import { sympyRequest } from "../../packages/eval/src/math-sympy.ts";
import { benchArgs } from "../options.ts";

const args = benchArgs(import.meta.url, { runners: { type: "string" }, "math-baseline": { type: "string" } });
const RUNNERS = args.number("runners", Math.min(4, cpus().length), { min: 1, max: 64 });
const MATH_BASELINE = args.number("math-baseline", 100, { min: 1, max: 500 });
const CODE_PROBLEMS = 400;
const TESTS = 10;
const MATH_PROBLEMS = 500;

const answer = (body: string) => `I worked it out.</think>\n<answer>\n${body}\n</answer>`;
const fence = (code: string) => answer("```python\n" + code + "\n```");

// ---- code ---------------------------------------------------------------------------------------

type Gen = (rng: Rng) => string;
const floats = (rng: Rng, n: number) => `[${Array.from({ length: n }, () => (rng.int(2000) / 100 - 10).toFixed(2)).join(", ")}]`;
const INPUTS: Record<string, Gen> = {
  has_close_pair: (r) => `${floats(r, 8)}, ${(r.int(50) / 100).toFixed(2)}`,
  mean_absolute_deviation: (r) => floats(r, 6),
  is_prime: (r) => String(r.int(100_000)),
  fib: (r) => String(r.int(80)),
  count_vowels: (r) => JSON.stringify(Array.from({ length: 12 }, () => "aébcdüioxyzAEU "[r.int(15)]).join("")),
  rolling_max: (r) => `[${Array.from({ length: 10 }, () => r.int(100) - 50).join(", ")}]`,
  power_of_two: (r) => String(r.int(300)),
};

async function codeBenchmark(): Promise<{ problems: CodeProblem[]; completions: string[] }> {
  const shapes = ((await loadProblems(resolveBenchmark("fixture-humaneval-plus"))) as CodeProblem[]).filter((p) => p.tests.format === "evalplus");
  const rng = Rng.fromSeed(7);
  const problems: CodeProblem[] = [];
  const completions: string[] = [];
  for (let i = 0; i < CODE_PROBLEMS; i++) {
    const shape = shapes[i % shapes.length]!;
    const t = shape.tests as EvalPlusTests;
    const gen = INPUTS[shape.entryPoint!]!;
    problems.push({ ...shape, id: `bench/${i}`, tests: { ...t, base: Array.from({ length: TESTS }, () => gen(rng)), plus: [] } });
    const roll = rng.int(10);
    // 70% right (the canonical solution), 20% wrong, 10% not even Python.
    completions.push(
      roll < 7 ? fence(t.canonicalSolution) : roll < 9 ? fence(`def ${shape.entryPoint}(*args):\n    return None`) : fence(`def ${shape.entryPoint}(x)\n    return x`),
    );
  }
  return { problems, completions };
}

// ---- math ---------------------------------------------------------------------------------------

function mathBenchmark(): { problems: MathProblem[]; completions: string[] } {
  const rng = Rng.fromSeed(11);
  const problems: MathProblem[] = [];
  const completions: string[] = [];
  const boxed = (x: string) => answer(`So the result is $\\boxed{${x}}$.`);
  for (let i = 0; i < MATH_PROBLEMS; i++) {
    const a = 1 + rng.int(20);
    const b = 2 + rng.int(20);
    const k = 1 + rng.int(9);
    const m = 1 + rng.int(500); // keeps the symbolic pairs distinct, as a real benchmark's are
    const kind = rng.int(10);
    let gold: string;
    let said: string;
    if (kind < 3) [gold, said] = [`\\frac{${a}}{${b}}`, boxed(`\\dfrac{${a}}{${b}}`)]; // exact after normalising
    else if (kind < 5) [gold, said] = [`\\frac{${a}}{${b * 2}}`, boxed(String(a / (b * 2)))]; // numeric
    else if (kind < 6) [gold, said] = [String(a * b), boxed(String(a * b + 1))]; // numeric, wrong
    else if (kind < 7) [gold, said] = [`${m}x+${k}`, boxed(`${k}+${m}x`)]; // symbolic
    else if (kind < 8) [gold, said] = [`(x+${m})^2`, boxed(`x^2+${2 * m}x+${m * m + (k === 1 ? 1 : 0)}`)]; // symbolic (k = 1: wrong)
    else if (kind < 9) [gold, said] = [`${m}\\sqrt{2}`, boxed(`\\sqrt{${2 * m * m}}`)]; // symbolic
    else [gold, said] = [String(a), `The answer is ${a}.`]; // no answer tag, no \boxed{}
    problems.push({ kind: "math", id: `bench/${i}`, problem: `Problem ${i}`, answer: gold });
    completions.push(said);
  }
  return { problems, completions };
}

/** The naive math design: every extracted answer is one job that imports sympy and compares. */
async function naiveMath(pool: ExecutorPool, problems: MathProblem[], completions: string[]): Promise<{ verdicts: boolean[]; jobs: number }> {
  const def = resolveBenchmark("fixture-math");
  const verdicts = completions.map(() => false);
  const jobs: { i: number; req: ReturnType<typeof sympyRequest> }[] = [];
  completions.forEach((c, i) => {
    const got = extractMathAnswer(c);
    if (got.ok) jobs.push({ i, req: sympyRequest([{ a: latexToSympy(normalizeAnswer(got.text)), b: latexToSympy(normalizeAnswer(problems[i]!.answer)) }], def.limits.timeoutMs, def.limits.memoryMb) });
  });
  const results = await pool.runAll(jobs.map((j) => j.req));
  jobs.forEach((j, k) => {
    const o = results[k]!.calls[0]?.[0];
    verdicts[j.i] = o?.status === "ok" && o.value.t === "bool" && o.value.v;
  });
  return { verdicts, jobs: jobs.length };
}

// ---- run ----------------------------------------------------------------------------------------

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const verdicts = (r: ProblemResult[]) => r.map((p) => p.samples[0]!.correct);

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await f();
  return [out, (performance.now() - t0) / 1000];
}

const codePool = await createExecutor({ backend: "bwrap", runners: RUNNERS });
const codeDef = resolveBenchmark("humaneval-plus");
// Warm up the runners (first forks, page cache) outside the timings.
await codePool.runAll(Array.from({ length: 20 }, (_, i) => ({ id: `w${i}`, kind: "run" as const, program: "def f(x):\n    return x", calls: ["1"] })));

const batchedSet = await codeBenchmark();
const jobsBefore = codePool.metrics().completed;
const [batched, batchedS] = await timed(() => scoreProblems(codeDef, batchedSet.problems.map((p, i) => ({ problem: p, completions: [batchedSet.completions[i]!] })), codePool));
const batchedJobs = codePool.metrics().completed - jobsBefore;
const naiveSet = await codeBenchmark(); // fresh problem objects: ground truth is computed again
const naiveBefore = codePool.metrics().completed;
const [naive, naiveS] = await timed(() => scoreProblems(codeDef, naiveSet.problems.map((p, i) => ({ problem: p, completions: [naiveSet.completions[i]!] })), codePool, { testsPerJob: 1 }));
const naiveJobs = codePool.metrics().completed - naiveBefore;
await codePool.close();

const mathDef = resolveBenchmark("fixture-math");
const mathSet = mathBenchmark();
const scoringPool = await createExecutor({ backend: "bwrap", runners: RUNNERS, systemModules: ["sympy"] });
await scoringPool.runAll(Array.from({ length: RUNNERS * 2 }, (_, i) => ({ id: `w${i}`, kind: "run" as const, program: "import sympy\ndef f(x):\n    return sympy.simplify(x) == 0", calls: ["0"] })));
const mathBefore = scoringPool.metrics().completed;
const [math, mathS] = await timed(() => scoreProblems(mathDef, mathSet.problems.map((p, i) => ({ problem: p, completions: [mathSet.completions[i]!] })), scoringPool));
const mathJobs = scoringPool.metrics().completed - mathBefore;
await scoringPool.close();

// The naive pool binds dist-packages (mpmath preloaded only) so each job imports sympy itself.
const naivePool = await createExecutor({ backend: "bwrap", runners: RUNNERS, systemModules: ["mpmath"] });
const subset = Math.min(MATH_BASELINE, MATH_PROBLEMS);
const [naiveMathOut, naiveMathS] = await timed(() => naiveMath(naivePool, mathSet.problems.slice(0, subset), mathSet.completions.slice(0, subset)));
await naivePool.close();
const naiveMathVerdicts = naiveMathOut.verdicts;

const codeRate = CODE_PROBLEMS / batchedS;
const naiveCodeRate = CODE_PROBLEMS / naiveS;
const mathRate = MATH_PROBLEMS / mathS;
const naiveMathRate = subset / naiveMathS;
console.log(
  JSON.stringify(
    {
      machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg1: round(loadavg()[0]!), runners: RUNNERS, backend: "bwrap" },
      code: {
        problems: CODE_PROBLEMS,
        testsPerProblem: TESTS,
        batched: { testsPerJob: 256, seconds: round(batchedS), problemsPerSecond: round(codeRate, 1), sandboxJobs: batchedJobs, solved: batched.filter((r) => r.correct).length },
        baselinePerTestJobs: { testsPerJob: 1, seconds: round(naiveS), problemsPerSecond: round(naiveCodeRate, 1), sandboxJobs: naiveJobs, solved: naive.filter((r) => r.correct).length },
        speedup: round(codeRate / naiveCodeRate, 1),
        sameVerdicts: JSON.stringify(verdicts(batched)) === JSON.stringify(verdicts(naive)),
      },
      math: {
        problems: MATH_PROBLEMS,
        batched: {
          seconds: round(mathS),
          problemsPerSecond: round(mathRate, 1),
          sandboxJobs: mathJobs,
          decidedBy: Object.fromEntries(["exact", "numeric", "symbolic", "format"].map((how) => [how, math.filter((r) => (how === "format" ? r.samples[0]!.status === "format" : r.samples[0]!.detail.startsWith(how))).length])),
          solved: math.filter((r) => r.correct).length,
        },
        baselinePerAnswerJobs: { problemsMeasured: subset, seconds: round(naiveMathS), problemsPerSecond: round(naiveMathRate, 1), sandboxJobs: naiveMathOut.jobs, solved: naiveMathVerdicts.filter(Boolean).length },
        speedup: round(mathRate / naiveMathRate, 1),
        sameVerdicts: JSON.stringify(verdicts(math).slice(0, subset)) === JSON.stringify(naiveMathVerdicts),
      },
    },
    null,
    2,
  ),
);
