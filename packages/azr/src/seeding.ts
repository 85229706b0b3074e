import { SEED_INDUCTION, SEED_TRIPLET, TaskBuffer, sampleReferences } from "./buffers.ts";
import type { RunConfig } from "./config.ts";
import type { StepIO } from "./driver.ts";
import type { ProposeItem, TokenCounting } from "./plan.ts";
import { templatesOf } from "./plan.ts";
import { inductionProposePrompt, tripletProposePrompt } from "./prompts.ts";
import { Rng, type RngState } from "./rng.ts";
import { completeProposal, prepareProposal } from "./step.ts";
import type { InductionTask, TripletTask } from "./types.ts";

// The optional seeding stage (azr-spec §4): starting from the identity triplet, the policy
// proposes programs from the growing seed set until it holds batchSize × seedBatchFactor valid
// triplets (exact duplicates dropped), then proposes induction inputs for those programs until
// as many induction seeds exist. The reference ships the result as seed files instead; both end
// up in createBuffers(capacity, { triplets, induction }). A part whose task types the run does
// not train (no abduction/deduction, or no induction) is skipped, as in the reference.

export type SeedingPart = "triplets" | "induction";

/** One proposer batch of the seeding stage, for progress reports. */
export interface SeedingRound {
  part: SeedingPart;
  round: number;
  maxRounds: number;
  proposed: number;
  valid: number;
  /** Valid proposals that were new (not exact duplicates of a seed). */
  added: number;
  size: number;
  target: number;
}

export interface SeedingResult {
  triplets: TripletTask[];
  induction: InductionTask[];
  rng: RngState;
  target: number;
  /** Proposer batches used for each part. */
  rounds: { triplets: number; induction: number };
  /** Proposals made and valid ones, per part. */
  proposed: { triplets: number; induction: number };
  valid: { triplets: number; induction: number };
  complete: boolean;
}

export interface SeedingOptions {
  /** Proposer batches per part before giving up (default 50). */
  maxRounds?: number;
  /** Called after each batch; a rejection stops the stage. */
  onRound?: (round: SeedingRound) => void | Promise<void>;
}

export async function runSeeding(config: RunConfig, io: StepIO, tokens: TokenCounting, rngState: RngState, options: SeedingOptions = {}): Promise<SeedingResult> {
  const { azr } = config;
  const target = azr.batchSize * azr.seedBatchFactor;
  const maxRounds = options.maxRounds ?? 50;
  let rng: RngState = rngState;
  const templates = templatesOf(config);
  const wantTriplets = azr.taskTypes.some((t) => t !== "induction");
  const wantInduction = azr.taskTypes.includes("induction");
  const seeds = new TaskBuffer<TripletTask>(target, [{ task: SEED_TRIPLET, step: 0 }]);
  const proposed = { triplets: 0, induction: 0 };
  const valid = { triplets: 0, induction: 0 };

  let tripletRounds = 0;
  while (wantTriplets && seeds.size < target && tripletRounds < maxRounds) {
    tripletRounds++;
    const round = tripletRounds;
    // Planned from the RNG state alone, so an asynchronous tokenizer may run it more than once.
    const planned = await tokens((countTokens) => {
      const r = new Rng(rng);
      const items: ProposeItem[] = Array.from({ length: azr.batchSize }, (_, i) => {
        let refs = sampleReferences(seeds, azr.references, azr.referenceSampling, r);
        let prompt = tripletProposePrompt(templates, "deduction", refs, azr.bannedModules);
        while (countTokens(prompt) > azr.proposerPromptMaxTokens && refs.length > 0) {
          refs = refs.slice(0, -1);
          prompt = tripletProposePrompt(templates, "deduction", refs, azr.bannedModules);
        }
        return { id: `seed${round}.deduction.propose.${i}`, type: "deduction", prompt, promptTokens: countTokens(prompt), references: refs };
      });
      return { items, rng: r.state() };
    });
    rng = planned.rng;
    const before = seeds.size;
    const tasks = await validate(planned.items);
    for (const task of tasks) seeds.add(task as TripletTask, round);
    proposed.triplets += planned.items.length;
    valid.triplets += tasks.length;
    await options.onRound?.({ part: "triplets", round, maxRounds, proposed: planned.items.length, valid: tasks.length, added: seeds.size - before, size: seeds.size, target });
  }

  const programs = seeds.entries().map((e) => e.task);
  const induction = new TaskBuffer<InductionTask>(target);
  let inductionRounds = 0;
  let next = 0;
  while (wantInduction && induction.size < target && inductionRounds < maxRounds) {
    inductionRounds++;
    const round = inductionRounds;
    const batch = Array.from({ length: azr.batchSize }, () => programs[next++ % programs.length]!);
    const items = await tokens((countTokens) =>
      batch.map((program, i): ProposeItem => {
        const prompt = inductionProposePrompt(templates, program.snippet, azr.inductionInputs);
        return { id: `seed${round}.induction.propose.${i}`, type: "induction", prompt, promptTokens: countTokens(prompt), references: [program] };
      }),
    );
    const before = induction.size;
    const tasks = await validate(items);
    for (const task of tasks) induction.add(task as InductionTask, round);
    proposed.induction += items.length;
    valid.induction += tasks.length;
    await options.onRound?.({ part: "induction", round, maxRounds, proposed: items.length, valid: tasks.length, added: induction.size - before, size: induction.size, target });
  }

  const triplets = seeds.entries().map((e) => e.task);
  const inductionSeeds = induction.size > 0 ? induction.entries().map((e) => e.task) : [SEED_INDUCTION];
  return {
    triplets,
    induction: inductionSeeds,
    rng,
    target,
    rounds: { triplets: tripletRounds, induction: inductionRounds },
    proposed,
    valid,
    complete: (!wantTriplets || seeds.size >= target) && (!wantInduction || induction.size >= target),
  };

  async function validate(items: ProposeItem[]) {
    const gen = await io.generate(items.map((p) => ({ id: p.id, prompt: p.prompt, type: p.type, role: "propose", trained: false })));
    if (gen.length !== items.length) throw new Error(`generate(seeding): expected ${items.length} results, got ${gen.length}`);
    const prepared = items.map((item, i) => prepareProposal(item, gen[i]!.text, config));
    const requests = prepared.flatMap((p) => (p.stage === "run" ? [p.request] : []));
    const results = await io.execute(requests);
    if (results.length !== requests.length) throw new Error(`execute(seeding): expected ${requests.length} results, got ${results.length}`);
    const byId = new Map(results.map((r, i) => [requests[i]!.id, r]));
    return prepared.flatMap((p) => {
      const v = completeProposal(p, byId.get(p.id), config);
      return v.valid ? [v.task] : [];
    });
  }
}
