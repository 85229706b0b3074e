// TypeScript-side cost of one reference-size AZR step (azr-spec §5): 3 task types × (64 proposals
// + 64 solver answers) = 384 trained trajectories, plus 8 × 64 learnability solves per type =
// 1,536 more; i.e. plan, parse, request building, judging, rewards, advantages and the buffer
// update. Execution is excluded: the executor's replies are pre-built plain values.
// Model completions are drawn from the parser corpus fixtures (their lengths are reported).
// Baseline in the same run: the parse phase done the naive way (regexes built per call, the
// reference's DOTALL format regex, regex search per block kind).
//
//   npx tsx bench/azr-step/run.ts [--runs 15] [--buffer-size 4096]
import type { CallOutcome, ExecResult, PyValue } from "@azr/protocol";
import {
  checkFormat,
  completeProposal,
  extractAnswer,
  extractSolverCode,
  extractSolverField,
  parseInductionProposal,
  parseTripletProposal,
  primeResponse,
  completeSolve,
  defaultRunConfig,
  foldStep,
  planStep,
  prepareProposal,
  prepareSolve,
  SEED_INDUCTION,
  TaskBuffer,
  type CountTokens,
  type InductionTask,
  type PreparedProposal,
  type PreparedSolve,
  type ProposalOutcome,
  type SolveOutcome,
  type TaskBuffers,
  type TripletTask,
} from "@azr/azr";
import { cpus, loadavg } from "node:os";
import { loadCorpus } from "../../packages/azr/src/fixtures/corpus.ts";
import { benchArgs } from "../options.ts";

const TARGET_MS = 250;
const args = benchArgs(import.meta.url, { runs: { type: "string" }, "buffer-size": { type: "string" } });
const RUNS = args.number("runs", 15, { min: 1, max: 1000 });
const BUFFER_SIZE = args.number("buffer-size", 4096, { min: 64 });

const config = defaultRunConfig(); // batch 64, n = 8, K = 6, 10 induction inputs
const corpus = loadCorpus();
// The corpus's deliberately huge records (MBs of reasoning) cannot come out of a policy capped at
// max_response_length = 8096 tokens; they are left out of the step workload.
const MAX_COMPLETION_CHARS = 64 * 1024;
const proposalsOf = (kind: string) =>
  corpus.filter((r) => r.kind === kind && r.completion.length <= MAX_COMPLETION_CHARS).map((r) => r.completion);
const tripletCompletions = proposalsOf("triplet");
const inductionCompletions = proposalsOf("induction");
const deductionAnswers = proposalsOf("solve-output");
const abductionAnswers = proposalsOf("solve-input");
const inductionAnswers = proposalsOf("solve-code");

// A stand-in for the worker's tokenizer (the real one is a parameter of planStep).
const countTokens: CountTokens = (t) => Math.ceil(t.length / 4);

const int = (v: number): PyValue => ({ t: "int", v: String(v) });
const value = (i: number): PyValue => ({ t: "list", v: [int(i), { t: "str", v: `item-${i}` }, { t: "tuple", v: [int(i * 2), { t: "float", v: i / 3 }] }] });
const ok = (v: PyValue): CallOutcome => ({ status: "ok", value: v });
const result = (id: string, calls: CallOutcome[][]): ExecResult => ({ id, status: "ok", calls, stdout: "", stderr: "", durationMs: 1 });

function buildBuffers(): TaskBuffers {
  const triplets = (salt: string) =>
    Array.from({ length: BUFFER_SIZE }, (_, i) => ({
      task: {
        kind: "triplet",
        snippet: `def f(xs):\n    acc = []\n    for x in xs:\n        acc.append(x * ${i} % 7)  # ${salt}\n    return acc`,
        input: `[${i}, ${i + 1}, ${i + 2}]`,
        output: `[${(i * i) % 7}, ${((i + 1) * i) % 7}, ${((i + 2) * i) % 7}]`,
        imports: [],
      } satisfies TripletTask,
      step: Math.floor(i / 64),
    }));
  const induction = Array.from({ length: BUFFER_SIZE }, (_, i) => ({
    task: { ...SEED_INDUCTION, inputs: Array.from({ length: 10 }, (_, j) => String(i + j)), outputs: Array.from({ length: 10 }, (_, j) => String(i + j)) } satisfies InductionTask,
    step: Math.floor(i / 64),
  }));
  return {
    abduction: new TaskBuffer<TripletTask>(config.azr.maxPrograms, triplets("a")),
    deduction: new TaskBuffer<TripletTask>(config.azr.maxPrograms, triplets("d")),
    induction: new TaskBuffer<InductionTask>(config.azr.maxPrograms, induction),
  };
}

interface Phases {
  plan: number;
  proposals: number;
  solves: number;
  fold: number;
}

const lengths: number[] = [];

function step(buffers: TaskBuffers, stepNo: number, recordLengths: boolean, pad: string): Phases {
  const t0 = performance.now();
  const plan = planStep({ config, buffers, rng: [1, 2, 3, 4], step: stepNo, countTokens });
  const t1 = performance.now();

  // Proposals: parse + request, then the verdict from the (pre-built) executor reply.
  let pick = 0;
  const proposals: ProposalOutcome[] = [];
  const prepared: PreparedProposal[] = [];
  for (const item of plan.propose) {
    const pool = item.type === "induction" ? inductionCompletions : tripletCompletions;
    const completion = pool[pick++ % pool.length]!;
    if (recordLengths) lengths.push(pad.length + completion.length);
    prepared.push(prepareProposal(item, pad + completion, config));
  }
  const valid: { type: (typeof plan.propose)[number]["type"]; task: TripletTask | InductionTask; index: number }[] = [];
  prepared.forEach((p, i) => {
    let res: ExecResult | undefined;
    if (p.stage === "run") res = result(p.id, p.request.calls.map((_, j) => [ok(value(i + j)), ok(value(i + j))]));
    const verdict = completeProposal(p, res, config);
    proposals.push({ verdict, scores: [], tokens: 200 });
    if (verdict.valid) valid.push({ type: verdict.type, task: verdict.task, index: i });
  });
  // Learnability: n solver attempts for each valid proposal; to keep the volume at the
  // reference's 8 × 64 per type whatever the fixture validity rate, tasks are reused round-robin.
  const attempts = config.azr.learnabilitySamples;
  const solvePrepared: { p: PreparedSolve; owner?: number }[] = [];
  for (const type of config.azr.taskTypes) {
    const ofType = valid.filter((v) => v.type === type);
    for (let i = 0; i < config.azr.batchSize && ofType.length > 0; i++) {
      const v = ofType[i % ofType.length]!;
      for (let k = 0; k < attempts; k++) {
        const pool = type === "deduction" ? deductionAnswers : type === "abduction" ? abductionAnswers : inductionAnswers;
        const completion = pool[(i * attempts + k) % pool.length]!;
        if (recordLengths) lengths.push(pad.length + completion.length);
        const p = prepareSolve(`${plan.propose[v.index]!.id}.l${k}`, type, v.task, pad + completion, config);
        solvePrepared.push({ p, owner: v.index });
      }
    }
  }
  const t2 = performance.now();
  // Solver batch.
  const solves: SolveOutcome[] = [];
  plan.solve.forEach((item, i) => {
    const pool = item.type === "deduction" ? deductionAnswers : item.type === "abduction" ? abductionAnswers : inductionAnswers;
    const completion = pool[i % pool.length]!;
    if (recordLengths) lengths.push(pad.length + completion.length);
    solvePrepared.push({ p: prepareSolve(item.id, item.type, item.task, pad + completion, config) });
  });
  for (const { p, owner } of solvePrepared) {
    let res: ExecResult | undefined;
    if (p.stage === "run") res = result(p.id, p.request.calls.map((_, j) => [ok(j % 2 ? value(j) : int(j))]));
    const score = completeSolve(p, res, config);
    if (owner !== undefined) proposals[owner]!.scores.push(score);
    else solves.push({ id: p.id, type: p.type, formatOk: p.formatOk, score, tokens: 150 });
  }
  // Proposals that were reused round-robin carry more than n scores; keep n as the fold expects.
  for (const o of proposals) o.scores = o.scores.slice(0, attempts);
  const t3 = performance.now();
  const folded = foldStep(buffers, { step: stepNo, proposals, solves }, config);
  const t4 = performance.now();
  if (Object.keys(folded.advantages).length !== plan.propose.length + plan.solve.length) throw new Error("every trained rollout needs an advantage");
  return { plan: t1 - t0, proposals: t2 - t1, solves: t3 - t2, fold: t4 - t3 };
}

// ---- the parse phase alone: ours vs a naive regex implementation, on identical inputs -------------

function naiveParse(text: string, field: "python" | "input" | "output"): string | undefined {
  const response = text.startsWith("<think>") ? text : `<think>${text}`;
  const format = new RegExp("^<think>[\\s\\S]*?</think>\\s*<answer>[\\s\\S]*?</answer>").test(response);
  const answer = response.split("<answer>").pop()!.split("</answer>")[0]!;
  const block = new RegExp("```" + field + "\\s*\\n?([\\s\\S]*?)\\n?```", "i").exec(answer);
  return format && block ? block[1] : undefined;
}

/** The step's parse workload: 192 proposals, 1,536 learnability answers, 192 solver answers. */
function parseWorkload(pad: string): { proposals: string[]; inductions: string[]; answers: [string, "input" | "output" | "code"][] } {
  const proposals = Array.from({ length: 128 }, (_, i) => pad + tripletCompletions[i % tripletCompletions.length]!);
  const inductions = Array.from({ length: 64 }, (_, i) => pad + inductionCompletions[i % inductionCompletions.length]!);
  const answers = Array.from({ length: 3 * 64 * 9 }, (_, i): [string, "input" | "output" | "code"] => {
    const kind = (["output", "input", "code"] as const)[i % 3]!;
    const pool = kind === "output" ? deductionAnswers : kind === "input" ? abductionAnswers : inductionAnswers;
    return [pad + pool[i % pool.length]!, kind];
  });
  return { proposals, inductions, answers };
}

function oursParsePhase(w: ReturnType<typeof parseWorkload>): number {
  const t = performance.now();
  let found = 0;
  for (const c of w.proposals) if (parseTripletProposal(primeResponse(c)).ok) found++;
  for (const c of w.inductions) if (parseInductionProposal(primeResponse(c), 10).ok) found++;
  for (const [c, kind] of w.answers) {
    const r = primeResponse(c);
    if (!checkFormat(r)) continue;
    const a = extractAnswer(r);
    if (kind === "code" ? extractSolverCode(a) : extractSolverField(a, kind).text) found++;
  }
  if (found < 0) throw new Error("unreachable");
  return performance.now() - t;
}

function naiveParsePhase(w: ReturnType<typeof parseWorkload>): number {
  const t = performance.now();
  let found = 0;
  for (const c of [...w.proposals, ...w.inductions]) {
    if (naiveParse(c, "python")) found++;
    if (naiveParse(c, "input")) found++;
  }
  for (const [c, kind] of w.answers) if (naiveParse(c, kind === "code" ? "python" : kind)) found++;
  if (found < 0) throw new Error("unreachable");
  return performance.now() - t;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// Reasoning text in front of every completion for the long-response variant (~1.5k tokens),
// closer to what a real policy writes than the short fixtures.
const LONG_PAD = "Let me trace the loop: i = 0, acc = [], then i = 1, acc = [1]; the branch is taken when x % 3 == 0. ".repeat(60);

function measure(pad: string) {
  const buffers = buildBuffers();
  lengths.length = 0;
  const work = parseWorkload(pad);
  for (let i = 0; i < 3; i++) {
    step(buffers, 100, i === 0, pad);
    oursParsePhase(work);
    naiveParsePhase(work);
  }
  const runs: Phases[] = [];
  const ours: number[] = [];
  const naive: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(step(buffers, 100, false, pad));
    ours.push(oursParsePhase(work));
    naive.push(naiveParsePhase(work));
  }
  const total = runs.map((r) => r.plan + r.proposals + r.solves + r.fold);
  return {
    responseChars: { mean: Math.round(lengths.reduce((a, b) => a + b, 0) / lengths.length), samples: lengths.length },
    stepMs: { median: round(median(total)), min: round(Math.min(...total)), max: round(Math.max(...total)) },
    phasesMedianMs: {
      plan: round(median(runs.map((r) => r.plan))),
      proposalsAndLearnabilityAnswers: round(median(runs.map((r) => r.proposals))),
      solverBatch: round(median(runs.map((r) => r.solves))),
      foldRewardsAdvantagesBuffers: round(median(runs.map((r) => r.fold))),
    },
    parsePhaseMs: { ours: round(median(ours)), naiveRegexBaseline: round(median(naive)) },
    withinTarget: median(total) < TARGET_MS,
  };
}

const round = (x: number) => +x.toFixed(2);

const out = {
  bench: "azr-step",
  node: process.version,
  cpus: cpus().length,
  // Other work on the machine inflates medians; min is the uncontended cost.
  loadAverage1m: { before: +loadavg()[0]!.toFixed(2), after: 0 },
  runs: RUNS,
  config: { taskTypes: config.azr.taskTypes.length, batchSize: config.azr.batchSize, learnabilitySamples: config.azr.learnabilitySamples, references: config.azr.references },
  trajectories: { trained: 6 * config.azr.batchSize, learnabilitySolves: 3 * config.azr.batchSize * config.azr.learnabilitySamples },
  bufferEntriesPerType: BUFFER_SIZE,
  fixtures: { total: corpus.length, usedInWorkload: corpus.filter((r) => r.completion.length <= MAX_COMPLETION_CHARS).length },
  targetMs: TARGET_MS,
  fixtureResponses: measure(""),
  longResponses: measure(LONG_PAD),
};
out.loadAverage1m.after = +loadavg()[0]!.toFixed(2);
console.log(JSON.stringify(out, null, 2));
