import type { ExecResult, RunRequest } from "@azr/protocol";
import type { RunConfig } from "./config.ts";
import { foldStep, type FoldedStep, type ProposalOutcome, type SolveOutcome } from "./fold.ts";
import { learnabilityPrompt, planStep, type CountTokens, type StepPlan } from "./plan.ts";
import type { AzrState } from "./state.ts";
import { completeProposal, completeSolve, prepareProposal, prepareSolve, type PreparedSolve, type ProposalVerdict } from "./step.ts";
import type { Role, TaskRecord, TaskType } from "./types.ts";

// One whole AZR step in order: plan, propose, validate, learnability, solve, fold. The model and
// the sandbox are passed in (`StepIO`), so this stays free of I/O: the orchestrator supplies
// the worker and the executor, tests supply doubles. Generations are batched across task
// types: one generate call for all proposer prompts, one for every solver prompt (learnability
// attempts and the solve batch together), one execute call per stage.

export interface GenerateRequest {
  /** Rollout id: trained rollouts keep it, so the worker can match advantages to its tokens. */
  id: string;
  prompt: string;
  type: TaskType;
  role: Role;
  /** Learnability attempts are sampled but never trained on. */
  trained: boolean;
}

export interface Generation {
  text: string;
  /** Response tokens, as counted by the policy's tokenizer. */
  tokens: number;
}

export interface StepIO {
  /** One completion per request, in the same order. */
  generate(requests: GenerateRequest[]): Promise<Generation[]>;
  /** One result per request, in the same order. */
  execute(requests: RunRequest[]): Promise<ExecResult[]>;
}

export interface StepSample {
  id: string;
  type: TaskType;
  role: Role;
  prompt: string;
  completion: string;
  tokens: number;
  reward: number;
  advantage: number;
  /** Proposals: the verdict; solver answers: the score in [0, 1]. */
  verdict?: ProposalVerdict;
  score?: number;
}

export interface StepOutput {
  plan: StepPlan;
  folded: FoldedStep;
  /** The state the next step starts from (buffers, RNG, step number). */
  next: AzrState;
  /** The trained rollouts (6 × batch), with reward and advantage. */
  samples: StepSample[];
  /** The learnability attempts (never trained on: reward and advantage 0), with their scores. */
  attempts: StepSample[];
}

function expectSameLength<T>(what: string, got: readonly T[], want: number): void {
  if (got.length !== want) throw new Error(`${what}: expected ${want} results, got ${got.length}`);
}

/** Runs each distinct request once (the reference caches identical answers per task; a policy
 * that converges writes the same answer many times) and maps the result back to every id. */
async function executeOnce(io: StepIO, requests: RunRequest[], what: string): Promise<Map<string, ExecResult>> {
  const keyOf = (r: RunRequest) => JSON.stringify({ ...r, id: "" });
  const unique = new Map<string, RunRequest>();
  const keys = requests.map((r) => {
    const k = keyOf(r);
    if (!unique.has(k)) unique.set(k, r);
    return k;
  });
  const list = [...unique.values()];
  const results = await io.execute(list);
  expectSameLength(what, results, list.length);
  const byKey = new Map([...unique.keys()].map((k, i) => [k, results[i]!]));
  return new Map(requests.map((r, i) => [r.id, { ...byKey.get(keys[i]!)!, id: r.id }]));
}

/** `plan`, when given, must be `planStep` of the same state and config (a caller that plans
 * ahead, e.g. to fetch token counts, passes it to avoid planning twice). */
export async function runStep(state: AzrState, config: RunConfig, io: StepIO, countTokens: CountTokens, plan?: StepPlan): Promise<StepOutput> {
  plan ??= planStep({ config, buffers: state.buffers, rng: state.rng, step: state.step, countTokens });

  // 1. Proposals.
  const proposeGen = await io.generate(plan.propose.map((p) => ({ id: p.id, prompt: p.prompt, type: p.type, role: "propose", trained: true })));
  expectSameLength("generate(propose)", proposeGen, plan.propose.length);
  const prepared = plan.propose.map((item, i) => prepareProposal(item, proposeGen[i]!.text, config));
  const byId = await executeOnce(
    io,
    prepared.flatMap((p) => (p.stage === "run" ? [p.request] : [])),
    "execute(proposals)",
  );
  const verdicts = prepared.map((p) => completeProposal(p, byId.get(p.id), config));

  // 2. Solver prompts: n learnability attempts per valid proposal, and the solve batch.
  type SolveJob = { id: string; type: TaskType; task: TaskRecord; prompt: string; owner?: number };
  const jobs: SolveJob[] = [];
  verdicts.forEach((v, owner) => {
    if (!v.valid) return;
    const prompt = learnabilityPrompt(config, v.type, v.task);
    for (let k = 0; k < plan.learnabilitySamples; k++) jobs.push({ id: `${v.id}.l${k}`, type: v.type, task: v.task, prompt, owner });
  });
  for (const s of plan.solve) jobs.push({ id: s.id, type: s.type, task: s.task, prompt: s.prompt });
  const solveGen = await io.generate(jobs.map((j) => ({ id: j.id, prompt: j.prompt, type: j.type, role: "solve", trained: j.owner === undefined })));
  expectSameLength("generate(solve)", solveGen, jobs.length);
  const preparedSolves: PreparedSolve[] = jobs.map((j, i) => prepareSolve(j.id, j.type, j.task, solveGen[i]!.text, config));
  const solveById = await executeOnce(
    io,
    preparedSolves.flatMap((p) => (p.stage === "run" ? [p.request] : [])),
    "execute(solve)",
  );
  const scores = preparedSolves.map((p) => completeSolve(p, solveById.get(p.id), config));

  // 3. Fold.
  const proposals: ProposalOutcome[] = verdicts.map((verdict, i) => ({ verdict, scores: [], tokens: proposeGen[i]!.tokens }));
  const solves: SolveOutcome[] = [];
  jobs.forEach((j, i) => {
    if (j.owner !== undefined) proposals[j.owner]!.scores.push(scores[i]!);
    else solves.push({ id: j.id, type: j.type, formatOk: preparedSolves[i]!.formatOk, score: scores[i]!, tokens: solveGen[i]!.tokens });
  });
  const folded = foldStep(state.buffers, { step: plan.step, proposals, solves }, config);

  const samples: StepSample[] = [
    ...plan.propose.map((p, i) => ({
      id: p.id,
      type: p.type,
      role: "propose" as const,
      prompt: p.prompt,
      completion: proposeGen[i]!.text,
      tokens: proposeGen[i]!.tokens,
      reward: folded.rewards[p.id]!,
      advantage: folded.advantages[p.id]!,
      verdict: verdicts[i]!,
    })),
    ...jobs.flatMap((j, i) =>
      j.owner !== undefined
        ? []
        : [
            {
              id: j.id,
              type: j.type,
              role: "solve" as const,
              prompt: j.prompt,
              completion: solveGen[i]!.text,
              tokens: solveGen[i]!.tokens,
              reward: folded.rewards[j.id]!,
              advantage: folded.advantages[j.id]!,
              score: scores[i]!,
            },
          ],
    ),
  ];
  const attempts: StepSample[] = jobs.flatMap((j, i) =>
    j.owner === undefined
      ? []
      : [{ id: j.id, type: j.type, role: "solve" as const, prompt: j.prompt, completion: solveGen[i]!.text, tokens: solveGen[i]!.tokens, reward: 0, advantage: 0, score: scores[i]! }],
  );
  return { plan, folded, next: { step: state.step + 1, rng: plan.rngAfter, buffers: folded.buffers }, samples, attempts };
}
