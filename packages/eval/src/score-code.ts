import { pyRepr } from "@azr/azr";
import type { ExecutorPool } from "@azr/executor";
import type { CallOutcome, ExecResult, PyValue } from "@azr/protocol";
import { LCB_PRELUDE, harnessProgram, harnessRequest, type HarnessMode } from "./code-harness.ts";
import { evalplusEqual, functionalEqual, stdioMismatch } from "./code-compare.ts";
import type { BenchmarkDefinition } from "./definition.ts";
import { extractProgram } from "./extract.ts";
import type { CodeProblem, EvalPlusTests } from "./problem.ts";
import type { ProblemResult, SampleResult, SampleStatus } from "./result.ts";

// Code scoring: extract the program, run the benchmark's tests under the harness in the sandbox
// (code-harness.ts), compare outputs here (code-compare.ts). A sample is correct when every test
// passes; the first failing test gives its status and detail.

export interface CodeItem {
  problem: CodeProblem;
  completions: readonly string[];
}

export interface CodeScoreOptions {
  /** Test cases per sandbox job (default 256). 1 gives every test a process of its own (slow;
   * the bench's baseline). */
  testsPerJob?: number;
}

export const DEFAULT_TESTS_PER_JOB = 256;
/** Sum of per-test limits one job may carry (the executor caps a job at 120 s, harness load
 * included). */
const JOB_BUDGET_MS = 110_000;

/** EvalPlus's per-test time limit: max(min limit, 4 × the canonical solution's time). */
const GT_TIME_FACTOR = 4;
/** The canonical solution's own per-test budget while its outputs are computed. */
const GROUND_TRUTH_LIMIT_MS = 20_000;

type Expected = { ok: true; value: PyValue; seconds: number } | { ok: false; why: string };

interface GroundTruth {
  base: Expected[];
  plus: Expected[];
}

/** One test of a sample: what to send, and how to judge what comes back. */
interface TestCase {
  label: string;
  args: string;
  limitMs: number;
  judge: (out: PyValue) => string | undefined;
}

const truncate = (s: string, n = 200) => (s.length <= n ? s : `${s.slice(0, n)}…`);
const show = (v: PyValue) => truncate(pyRepr(v));

function harnessMode(p: CodeProblem): HarnessMode {
  return p.tests.format === "stdio" ? "stdio" : p.tests.format === "check" ? "check" : "call";
}

function programSource(p: CodeProblem, candidate: string): string {
  if (p.tests.format === "stdio" || p.tests.format === "functional") return LCB_PRELUDE + candidate;
  if (p.tests.format === "check") return `${candidate}\n\n${p.tests.program}\n`;
  return candidate;
}

/** Runs `cases` of one program in jobs of `perJob`; returns each case's outcome (undefined for
 * a case the job never reached) and the job results. */
async function runCases(
  executor: ExecutorPool,
  program: string,
  mode: HarnessMode,
  cases: readonly { args: string; limitMs: number }[],
  memoryMb: number,
  perJob: number,
  budgetMs: number,
): Promise<{ outcome: (CallOutcome | undefined)[]; job: ExecResult[] }> {
  // Consecutive cases, at most perJob a job and no more than the sum of their own limits allows
  // within `budgetMs`: for candidates that is the executor's job limit, since a job cut short by
  // its overall limit would fail tests that never had their own time.
  const chunks: [number, number][] = [];
  for (let from = 0; from < cases.length; ) {
    let to = from;
    let budget = 0;
    while (to < cases.length && to - from < perJob && (to === from || budget + cases[to]!.limitMs <= budgetMs)) budget += cases[to++]!.limitMs;
    chunks.push([from, to]);
    from = to;
  }
  const jobs = await executor.runAll(
    chunks.map(([from, to], j) => {
      const slice = cases.slice(from, to);
      return harnessRequest(`code-${j}`, program, { mode, limitsMs: slice.map((c) => c.limitMs), args: slice.map((c) => c.args), memoryMb });
    }),
  );
  const outcome: (CallOutcome | undefined)[] = [];
  const job: ExecResult[] = [];
  chunks.forEach(([from, to], j) => {
    const r = jobs[j]!;
    for (let k = 0; k < to - from; k++) {
      outcome.push(r.calls[k]?.[0]);
      job.push(r);
    }
  });
  return { outcome, job };
}

/** The program never loaded (syntax error, an exception at import): no test ran. */
function loadFailed(r: ExecResult): boolean {
  return (r.status === "syntax" || r.status === "error") && r.calls.every((c) => c[0] === undefined || c[0].status === "not-run");
}

const groundTruths = new WeakMap<EvalPlusTests, Promise<GroundTruth>>();

/** EvalPlus's ground truth: the canonical solution's outputs and times on every input, computed
 * once per problem in the sandbox (EvalPlus computes it the same way, unsandboxed). */
function groundTruth(p: CodeProblem & { tests: EvalPlusTests }, executor: ExecutorPool, memoryMb: number, perJob: number): Promise<GroundTruth> {
  let gt = groundTruths.get(p.tests);
  if (!gt) {
    gt = (async () => {
      const t = p.tests;
      const inputs = [...t.base, ...t.plus];
      const program = harnessProgram(t.canonicalSolution, p.entryPoint);
      const expected: Expected[] = new Array(inputs.length);
      let pending = inputs.map((_, i) => i);
      // A job cut short (its overall limit) leaves cases unreached: run those again.
      for (let round = 0; pending.length > 0 && round < 4; round++) {
        // Packed by count only: a job cut short by its overall limit is simply run again.
        const { outcome, job } = await runCases(executor, program, "call", pending.map((i) => ({ args: inputs[i]!, limitMs: GROUND_TRUTH_LIMIT_MS })), memoryMb, perJob, Infinity);
        const retry: number[] = [];
        pending.forEach((index, k) => {
          const o = outcome[k];
          if (o?.status === "ok" && o.value.t === "tuple" && o.value.v.length === 2) {
            const [secs, value] = o.value.v as [PyValue, PyValue];
            expected[index] = { ok: true, value, seconds: secs.t === "float" && typeof secs.v === "number" ? secs.v : 0 };
          } else if (o === undefined || o.status === "not-run" || o.status === "timeout") {
            if (loadFailed(job[k]!)) {
              expected[index] = { ok: false, why: `canonical solution does not load: ${job[k]!.error?.type}: ${job[k]!.error?.message}` };
            } else retry.push(index);
          } else {
            expected[index] = { ok: false, why: `canonical solution failed (${o.status}${o.status === "error" ? `: ${o.errorType}` : ""})` };
          }
        });
        pending = retry;
      }
      for (const i of pending) expected[i] = { ok: false, why: "canonical solution never reached this input" };
      return { base: expected.slice(0, t.base.length), plus: expected.slice(t.base.length) };
    })();
    groundTruths.set(p.tests, gt);
  }
  return gt;
}

function testCases(p: CodeProblem, def: BenchmarkDefinition, gt: GroundTruth | undefined): { cases: TestCase[]; skipped: string } {
  const t = p.tests;
  switch (t.format) {
    case "evalplus": {
      const cases: TestCase[] = [];
      let skipped = 0;
      let why = "";
      const add = (kind: "base" | "plus", inputs: string[], exp: Expected[]) => {
        inputs.forEach((args, i) => {
          const e = exp[i]!;
          if (!e.ok) {
            skipped++;
            why ||= e.why;
            return;
          }
          cases.push({
            label: `${kind} test ${i + 1} of ${inputs.length} (${truncate(args, 80)})`,
            args,
            limitMs: Math.max(p.timeLimitMs, Math.ceil(GT_TIME_FACTOR * e.seconds * 1000)),
            judge: (out) =>
              evalplusEqual(out, e.value, { dataset: t.dataset, entryPoint: p.entryPoint!, atol: t.atol, args }) ? undefined : `expected ${show(e.value)}, got ${show(out)}`,
          });
        });
      };
      add("base", t.base, gt!.base);
      if (def.evalplusTests !== "base") add("plus", t.plus, gt!.plus);
      return { cases, skipped: skipped ? `${skipped} inputs skipped: ${why}` : "" };
    }
    case "check":
      // human-eval runs the whole check program under one 3 s limit.
      return { cases: [{ label: "check program", args: "", limitMs: Math.max(3000, p.timeLimitMs), judge: () => undefined }], skipped: "" };
    case "stdio":
      return {
        cases: t.cases.map((c, i) => ({
          label: `${c.public ? "public" : "private"} test ${i + 1} of ${t.cases.length}`,
          args: pyRepr({ t: "str", v: c.input }),
          limitMs: p.timeLimitMs,
          judge: (out) => (out.t === "str" ? stdioMismatch(out.v, c.output) : `stdout came back as ${out.t}`),
        })),
        skipped: "",
      };
    case "functional":
      return {
        cases: t.cases.map((c, i) => ({
          label: `${c.public ? "public" : "private"} test ${i + 1} of ${t.cases.length} (${truncate(c.args, 80)})`,
          args: c.args,
          limitMs: p.timeLimitMs,
          judge: (out) => (functionalEqual(out, c.output) ? undefined : `expected ${show(c.output)}, got ${show(out)}`),
        })),
        skipped: "",
      };
  }
}

function jobFailure(r: ExecResult): { status: SampleStatus; detail: string } {
  const err = r.error ? `${r.error.type}: ${truncate(r.error.message, 300)}` : r.status;
  switch (r.status) {
    case "error":
      return r.error?.type === "SyntaxError" || r.error?.type === "IndentationError" || r.error?.type === "TabError"
        ? { status: "syntax", detail: err }
        : { status: "runtime-error", detail: err };
    case "timeout":
    case "memory":
    case "output-limit":
    case "syntax":
    case "sandbox-failure":
      return { status: r.status, detail: err };
    default:
      return { status: "sandbox-failure", detail: err };
  }
}

function callFailure(o: CallOutcome, mode: HarnessMode): { status: SampleStatus; detail: string } | undefined {
  switch (o.status) {
    case "ok":
      return undefined;
    case "error":
      if (o.errorType === "_AzrTimeout") return { status: "timeout", detail: "time limit exceeded" };
      // A failed assertion of the benchmark's check program is a wrong answer, not a crash.
      if (mode === "check" && o.errorType === "AssertionError") return { status: "wrong-answer", detail: `check failed: ${truncate(o.message, 300) || "assertion"}` };
      if (o.errorType === "MemoryError") return { status: "memory", detail: "memory limit reached" };
      return { status: "runtime-error", detail: `${o.errorType}: ${truncate(o.message, 300)}` };
    case "timeout":
      return { status: "timeout", detail: "time limit exceeded" };
    case "unserialisable":
      return { status: "wrong-answer", detail: `returned a ${o.typeName}, not plain data` };
    case "value-too-large":
      return { status: "output-limit", detail: `output of ${o.bytes} bytes` };
    case "not-run":
      return { status: "sandbox-failure", detail: "not run" };
  }
}

async function scoreSample(
  executor: ExecutorPool,
  p: CodeProblem,
  completion: string,
  cases: TestCase[],
  skipped: string,
  def: BenchmarkDefinition,
  perJob: number,
): Promise<SampleResult> {
  const got = extractProgram(completion);
  if (!got.ok) return { completion, extracted: null, correct: false, status: "format", detail: "no code block in the answer" };
  if (cases.length === 0) return { completion, extracted: got.program, correct: false, status: "sandbox-failure", detail: `no usable tests (${skipped})` };
  const program = harnessProgram(programSource(p, got.program), p.entryPoint);
  const { outcome, job } = await runCases(executor, program, harnessMode(p), cases, def.limits.memoryMb, perJob, JOB_BUDGET_MS);
  for (let i = 0; i < cases.length; i++) {
    const o = outcome[i];
    const c = cases[i]!;
    if (o === undefined || o.status === "not-run") {
      const f = jobFailure(job[i]!);
      // A program that does not load fails before any test; a job cut short names the test.
      const where = loadFailed(job[i]!) ? "" : `${c.label}: `;
      return { completion, extracted: got.program, correct: false, ...f, detail: `${where}${f.detail}` };
    }
    const failed = callFailure(o, harnessMode(p));
    if (failed) return { completion, extracted: got.program, correct: false, ...failed, detail: `${c.label}: ${failed.detail}` };
    const value = o.status === "ok" && o.value.t === "tuple" && o.value.v.length === 2 ? o.value.v[1]! : undefined;
    if (value === undefined) return { completion, extracted: got.program, correct: false, status: "sandbox-failure", detail: `${c.label}: malformed harness result` };
    const why = c.judge(value);
    if (why !== undefined) return { completion, extracted: got.program, correct: false, status: "wrong-answer", detail: `${c.label}: ${why}` };
  }
  const note = skipped ? ` (${skipped})` : "";
  return { completion, extracted: got.program, correct: true, status: "pass", detail: `passed ${cases.length} tests${note}` };
}

export async function scoreCode(def: BenchmarkDefinition, items: readonly CodeItem[], executor: ExecutorPool, opts: CodeScoreOptions = {}): Promise<ProblemResult[]> {
  const perJob = Math.max(1, Math.min(1024, opts.testsPerJob ?? DEFAULT_TESTS_PER_JOB));
  return Promise.all(
    items.map(async ({ problem, completions }) => {
      const gt = problem.tests.format === "evalplus" ? await groundTruth(problem as CodeProblem & { tests: EvalPlusTests }, executor, def.limits.memoryMb, perJob) : undefined;
      const { cases, skipped } = testCases(problem, def, gt);
      // Greedy decoding with n > 1 repeats one answer: each distinct completion runs once.
      const memo = new Map<string, Promise<SampleResult>>();
      const samples = await Promise.all(
        completions.map((c) => {
          let r = memo.get(c);
          if (!r) memo.set(c, (r = scoreSample(executor, problem, c, cases, skipped, def, perJob)));
          return r.then((x) => ({ ...x }));
        }),
      );
      return { problemId: problem.id, samples, correct: samples.filter((s) => s.correct).length, n: samples.length };
    }),
  );
}
