import { SEED_TRIPLET, sampleReferences, selectSolverTasks, type TaskBuffer, type TaskBuffers } from "./buffers.ts";
import type { RunConfig } from "./config.ts";
import { inductionProposePrompt, resolveTemplates, solvePrompt, tripletProposePrompt, type PromptTemplates } from "./prompts.ts";
import { Rng, rngStateSchema, weightedPicker, type RngState } from "./rng.ts";
import type { TaskRecord, TaskType, TripletTask } from "./types.ts";

// The step planner: from a run config, the buffers and an RNG state, everything the step will
// ask the model for. It is a pure function of its inputs, so a step re-planned from a
// checkpointed RNG state is identical to the original.

/** Token counter of the policy's tokenizer (the worker provides the real one). */
export type CountTokens = (text: string) => number;

/** Runs `plan` — a pure function of its inputs — with token counts. A synchronous tokenizer runs
 * it once (`withTokenCounter`); an asynchronous one, like a worker's, runs it, fetches the counts
 * it asked for and runs it again until none is missing (packages/orchestrator). */
export type TokenCounting = <T>(plan: (countTokens: CountTokens) => T) => Promise<T>;

export function withTokenCounter(countTokens: CountTokens): TokenCounting {
  return async (plan) => plan(countTokens);
}

export interface ProposeItem {
  id: string;
  type: TaskType;
  prompt: string;
  promptTokens: number;
  /** Deduction/abduction: the reference triplets shown. Induction: the one program, whose
   * inputs the proposer writes. */
  references: TripletTask[];
}

export interface SolveItem {
  id: string;
  type: TaskType;
  task: TaskRecord;
  prompt: string;
  promptTokens: number;
}

export interface StepPlan {
  step: number;
  rngBefore: RngState;
  rngAfter: RngState;
  propose: ProposeItem[];
  solve: SolveItem[];
  /** Solver attempts per valid proposal for its learnability reward. */
  learnabilitySamples: number;
}

export interface PlanInput {
  config: RunConfig;
  buffers: TaskBuffers;
  rng: RngState;
  step: number;
  countTokens: CountTokens;
}

export function templatesOf(config: RunConfig): PromptTemplates {
  return resolveTemplates(config.prompts.version, config.prompts.overrides);
}

export function planStep({ config, buffers, rng: rngState, step, countTokens }: PlanInput): StepPlan {
  const rngBefore = rngStateSchema.parse(rngState) as RngState;
  const rng = new Rng(rngBefore);
  const templates = templatesOf(config);
  const { azr } = config;
  const propose: ProposeItem[] = [];
  const solve: SolveItem[] = [];
  const pickProgram = programPicker(buffers, azr.referenceSampling);

  for (const type of azr.taskTypes) {
    const tripletBuffer = type === "induction" ? undefined : buffers[type];
    // Solver tasks are chosen before this step's proposals exist, as in the reference.
    const buffer = buffers[type] as TaskBuffer<TaskRecord>;
    let index = 0;
    for (let task of selectSolverTasks<TaskRecord>(buffer, azr.batchSize, step, azr.solverRecencyWindow, rng)) {
      let prompt = solvePrompt(templates, type, task);
      let tokens = countTokens(prompt);
      // A task whose solver prompt exceeds the policy's prompt length is swapped for a uniform
      // draw from the buffer, and dropped if none fits (the batch is then smaller).
      for (let attempt = 0; tokens > config.sampling.maxPromptLength && attempt < azr.promptResampleAttempts; attempt++) {
        task = buffer.at(rng.int(buffer.size)).task;
        prompt = solvePrompt(templates, type, task);
        tokens = countTokens(prompt);
      }
      if (tokens > config.sampling.maxPromptLength) continue;
      solve.push({ id: `s${step}.${type}.solve.${index++}`, type, task, prompt, promptTokens: tokens });
    }
    for (let i = 0; i < azr.batchSize; i++) {
      const id = `s${step}.${type}.propose.${i}`;
      const draw = (): { prompt: string; refs: TripletTask[] } => {
        if (type === "induction") {
          const program = pickProgram(rng);
          return { prompt: inductionProposePrompt(templates, program.snippet, azr.inductionInputs), refs: [program] };
        }
        const refs = sampleReferences(tripletBuffer!, azr.references, azr.referenceSampling, rng);
        return { prompt: tripletProposePrompt(templates, type, refs, azr.bannedModules), refs };
      };
      let { prompt, refs } = draw();
      let tokens = countTokens(prompt);
      // Too long: resample (the reference's rule), then shed references until it fits.
      for (let attempt = 0; tokens > azr.proposerPromptMaxTokens && attempt < azr.promptResampleAttempts; attempt++) {
        ({ prompt, refs } = draw());
        tokens = countTokens(prompt);
      }
      while (tokens > azr.proposerPromptMaxTokens && type !== "induction" && refs.length > 0) {
        refs = refs.slice(0, -1);
        prompt = tripletProposePrompt(templates, type, refs, azr.bannedModules);
        tokens = countTokens(prompt);
      }
      propose.push({ id, type, prompt, promptTokens: tokens, references: refs });
    }
  }
  return { step, rngBefore, rngAfter: rng.state(), propose, solve, learnabilitySamples: azr.learnabilitySamples };
}

/** Induction proposers build on one program from the union of the abduction and deduction
 * buffers (uniform, or weighted by step + 1). */
function programPicker(buffers: TaskBuffers, mode: "uniform" | "recency"): (rng: Rng) => TripletTask {
  const a = buffers.abduction.entries();
  const d = buffers.deduction.entries();
  const total = a.length + d.length;
  if (total === 0) return () => SEED_TRIPLET;
  const at = (i: number) => (i < a.length ? a[i]! : d[i - a.length]!).task;
  if (mode === "uniform") return (rng) => at(rng.int(total));
  const pick = weightedPicker([...a, ...d].map((e) => e.step + 1));
  return (rng) => at(pick(rng));
}

/** The solver prompt a learnability attempt uses: the same prompt a solver would see. */
export function learnabilityPrompt(config: RunConfig, type: TaskType, task: TaskRecord): string {
  return solvePrompt(templatesOf(config), type, task);
}
