import {
  completeProposal,
  completeSolve,
  createBuffers,
  planStep,
  prepareProposal,
  prepareSolve,
  Rng,
  SEED_INDUCTION,
  SEED_TRIPLET,
  seedRngState,
  type InductionTask,
  type ProposeItem,
  type RunConfig,
  type TaskRecord,
  type TaskType,
  type TripletTask,
} from "@azr/azr";
import type { ExecResult, RunRequest } from "@azr/protocol";
import { DEMO_CORE_FAMILIES, IDENTITY, randomProgram, type ProgramInstance } from "./programs.ts";

// The demo corpus: real prompts, rendered by @azr/azr's own planner from buffers of template
// programs, each followed by a well-formed completion in the exact formats its parsers accept.
// Gold outputs come from running the programs in the sandboxed executor (through the same
// prepare/complete functions a run uses); nothing is evaluated in this process. Every item is
// then checked the way a run would judge it: proposals must be valid, solver answers must score 1.

/** Runs one execution request: an ExecutorPool's `run`, or anything with its contract. */
export type RunExec = (request: RunRequest) => Promise<ExecResult>;

export type CorpusItem =
  | { role: "propose"; type: TaskType; prompt: string; completion: string; item: ProposeItem }
  | { role: "solve"; type: TaskType; prompt: string; completion: string; task: TaskRecord };

export interface CorpusStats {
  items: number;
  byGroup: Record<string, number>;
  /** Items dropped because they did not validate (a template bug) or did not fit the context. */
  rejected: number;
  rejectedReasons: Record<string, number>;
  programs: number;
  maxPromptBytes: number;
  maxCompletionBytes: number;
  executions: number;
}

export interface Corpus {
  seed: number;
  items: CorpusItem[];
  stats: CorpusStats;
}

export interface BuildCorpusOptions {
  seed: number;
  /** Number of training texts. */
  size: number;
  config: RunConfig;
  exec: RunExec;
  /** Texts longer than this many bytes (prompt + completion + BOS + EOS) are dropped. */
  contextBytes: number;
  /** Program families to draw from (default DEMO_CORE_FAMILIES; FAMILY_NAMES for all). */
  families?: readonly string[];
  /** Executions in flight at once (default 8). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export const bytes = (s: string): number => Buffer.byteLength(s, "utf8");

/** The text the model is trained on: prompt (ending in "Assistant: <think>") + completion. */
export function itemText(item: CorpusItem): string {
  return item.prompt + item.completion;
}

// ---- completions ------------------------------------------------------------------------------

const fence = (tag: string, body: string) => `\`\`\`${tag}\n${body}\n\`\`\``;
const answer = (think: string, body: string) => ` ${think}\n</think> <answer>\n${body}\n</answer>`;

export function tripletProposalCompletion(program: ProgramInstance, input: string): string {
  return answer(`I will write f to ${program.description}.`, `${fence("python", program.snippet)}\n${fence("input", input)}`);
}

export function inductionProposalCompletion(program: ProgramInstance, inputs: readonly string[]): string {
  const blocks = inputs.map((i) => fence("input", i)).join("\n");
  return answer(`f will ${program.description}; I will try ${inputs.length} different inputs.`, `${blocks}\n${fence("message", `Write a function to ${program.description}.`)}`);
}

export function solveCompletion(type: TaskType, task: TaskRecord, program: ProgramInstance): string {
  if (task.kind === "induction") return answer(`I need a function to ${program.description}.`, fence("python", task.snippet));
  if (type === "abduction") return answer(`f will ${program.description}.`, fence("input", task.input));
  return answer(`f will ${program.description}.`, fence("output", task.output));
}

// ---- building ---------------------------------------------------------------------------------

async function mapLimit<T, R>(items: readonly T[], limit: number, f: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export type ItemCheck = { ok: true; task?: TaskRecord } | { ok: false; reason: string };

/** Judges a corpus item exactly as a run would: a proposal through prepareProposal → executor →
 * completeProposal (must be valid), a solver answer through prepareSolve → executor →
 * completeSolve (must score 1). */
export async function checkItem(item: CorpusItem, config: RunConfig, exec: RunExec): Promise<ItemCheck> {
  if (item.role === "propose") {
    const prepared = prepareProposal(item.item, item.completion, config);
    const result = prepared.stage === "run" ? await exec(prepared.request) : undefined;
    const verdict = completeProposal(prepared, result, config);
    return verdict.valid ? { ok: true, task: verdict.task } : { ok: false, reason: `proposal ${verdict.reason}${verdict.detail ? `: ${verdict.detail}` : ""}` };
  }
  const prepared = prepareSolve("corpus", item.type, item.task, item.completion, config);
  const result = prepared.stage === "run" ? await exec(prepared.request) : undefined;
  const score = completeSolve(prepared, result, config);
  return score === 1 ? { ok: true } : { ok: false, reason: `solve score ${score}` };
}

function proposeItem(id: string, type: TaskType, references: TripletTask[]): ProposeItem {
  return { id, type, prompt: "", promptTokens: 0, references };
}

/**
 * Builds `size` training texts from `seed`. The same seed, config and executor give the same
 * corpus, item for item.
 */
export async function buildCorpus(o: BuildCorpusOptions): Promise<Corpus> {
  const { config, exec, seed } = o;
  const limit = o.concurrency ?? 8;
  const rng = Rng.fromSeed(seed);
  let executions = 0;
  const run: RunExec = (r) => {
    executions++;
    return exec(r);
  };
  const count = config.azr.inductionInputs;

  // 1. Programs with gold outputs: each template instance proposed as a triplet (and judged by
  //    the run's own functions), then as an induction task on its own inputs.
  const programCount = Math.max(24, Math.ceil(o.size / 6));
  const instances = Array.from({ length: programCount }, () => randomProgram(rng, o.families ?? DEMO_CORE_FAMILIES));
  const drafts = instances.map((p) => ({ program: p, input: p.input(rng), inputs: Array.from({ length: count + 2 }, () => p.input(rng)) }));
  const bySnippet = new Map<string, ProgramInstance>([[IDENTITY.snippet, IDENTITY]]);
  const triplets: TripletTask[] = [];
  const inductions: InductionTask[] = [];
  const rejectedReasons: Record<string, number> = {};
  const reject = (reason: string) => (rejectedReasons[reason] = (rejectedReasons[reason] ?? 0) + 1);
  const built = await mapLimit(drafts, limit, async (d, i) => {
    const t = await checkItem(
      { role: "propose", type: "deduction", prompt: "", completion: tripletProposalCompletion(d.program, d.input), item: proposeItem(`p${i}`, "deduction", []) },
      config,
      run,
    );
    if (!t.ok || t.task?.kind !== "triplet") return { reason: t.ok ? "not a triplet" : t.reason };
    // Distinct inputs only, so the visible pairs say something.
    const inputs = [...new Set(d.inputs)].slice(0, count);
    if (inputs.length < count) return { triplet: t.task };
    const ind = await checkItem(
      { role: "propose", type: "induction", prompt: "", completion: inductionProposalCompletion(d.program, inputs), item: proposeItem(`i${i}`, "induction", [t.task]) },
      config,
      run,
    );
    return ind.ok && ind.task?.kind === "induction" ? { triplet: t.task, induction: ind.task } : { triplet: t.task, reason: ind.ok ? "not induction" : ind.reason };
  });
  built.forEach((b, i) => {
    if (b.reason) reject(b.reason);
    if (b.triplet) {
      triplets.push(b.triplet);
      bySnippet.set(b.triplet.snippet, instances[i]!);
    }
    if (b.induction) inductions.push(b.induction);
  });
  if (triplets.length === 0) throw new Error(`no template program validated: ${JSON.stringify(rejectedReasons)}`);

  // 2. Plans from buffers of those programs. A third of the plans see only the seeds, like step 1.
  const candidates: CorpusItem[] = [];
  let nextFresh = 0;
  const fresh = () => drafts[nextFresh++ % drafts.length]!;
  for (let plan = 0; candidates.length < o.size * 1.05 + 8; plan++) {
    const seedsOnly = plan % 3 === 0;
    const pickSome = <T>(from: readonly T[], max: number) => rng.sampleIndices(from.length, seedsOnly ? 0 : 1 + rng.int(max)).map((i) => from[i]!);
    const buffers = createBuffers(config.azr.maxPrograms, {
      triplets: [SEED_TRIPLET, ...pickSome(triplets, 6)],
      induction: [SEED_INDUCTION, ...pickSome(inductions, 4)],
    });
    const p = planStep({ config, buffers, rng: seedRngState(rng.nextUint32()), step: 1 + rng.int(3), countTokens: bytes });
    for (const item of p.propose) {
      if (item.type === "induction") {
        const ref = item.references[0]!;
        const program = bySnippet.get(ref.snippet) ?? IDENTITY;
        const inputs = new Set<string>();
        for (let tries = 0; inputs.size < count && tries < 10 * count; tries++) inputs.add(program.input(rng));
        candidates.push({ role: "propose", type: item.type, prompt: item.prompt, completion: inductionProposalCompletion(program, [...inputs]), item });
      } else {
        const d = fresh();
        candidates.push({ role: "propose", type: item.type, prompt: item.prompt, completion: tripletProposalCompletion(d.program, d.input), item });
      }
    }
    for (const s of p.solve) {
      const program = bySnippet.get(s.task.snippet) ?? IDENTITY;
      candidates.push({ role: "solve", type: s.type, prompt: s.prompt, completion: solveCompletion(s.type, s.task, program), task: s.task });
    }
  }

  // 3. Judge every candidate as a run would; keep those that pass and fit the context.
  let done = 0;
  const checks = await mapLimit(candidates, limit, async (c) => {
    const r =
      bytes(c.prompt) + bytes(c.completion) + 2 > o.contextBytes
        ? ({ ok: false, reason: "too long for the context" } as const)
        : bytes(c.completion) + 1 > config.sampling.maxResponseLength
          ? ({ ok: false, reason: "completion longer than maxResponseLength" } as const)
          : await checkItem(c, config, run);
    o.onProgress?.(++done, candidates.length);
    return r;
  });
  const items: CorpusItem[] = [];
  checks.forEach((r, i) => {
    if (r.ok) items.push(candidates[i]!);
    else reject(r.reason);
  });
  // Shuffle (the planner emits items grouped by type) and cut to size.
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  const kept = items.slice(0, o.size);
  const byGroup: Record<string, number> = {};
  for (const it of kept) byGroup[`${it.type}.${it.role}`] = (byGroup[`${it.type}.${it.role}`] ?? 0) + 1;
  const rejected = Object.values(rejectedReasons).reduce((a, b) => a + b, 0);
  return {
    seed,
    items: kept,
    stats: {
      items: kept.length,
      byGroup,
      rejected,
      rejectedReasons,
      programs: triplets.length,
      maxPromptBytes: Math.max(0, ...kept.map((c) => bytes(c.prompt))),
      maxCompletionBytes: Math.max(0, ...kept.map((c) => bytes(c.completion))),
      executions,
    },
  };
}
