import { SEED_INDUCTION, SEED_TRIPLET, TaskBuffer, sampleReferences } from "./buffers.ts";
import type { RunConfig } from "./config.ts";
import type { StepIO } from "./driver.ts";
import type { CountTokens, ProposeItem } from "./plan.ts";
import { templatesOf } from "./plan.ts";
import { inductionProposePrompt, tripletProposePrompt } from "./prompts.ts";
import { Rng, type RngState } from "./rng.ts";
import { completeProposal, prepareProposal } from "./step.ts";
import type { InductionTask, TripletTask } from "./types.ts";

// The optional seeding stage (azr-spec §4): starting from the identity triplet, the policy
// proposes programs from the growing seed set until it holds batchSize × seedBatchFactor valid
// triplets (exact duplicates dropped), then proposes induction inputs for those programs until
// as many induction seeds exist. The reference ships the result as seed files instead; both end
// up in createBuffers(capacity, { triplets, induction }).

export interface SeedingResult {
  triplets: TripletTask[];
  induction: InductionTask[];
  rng: RngState;
  /** Proposer batches used for each part. */
  rounds: { triplets: number; induction: number };
  complete: boolean;
}

export async function runSeeding(
  config: RunConfig,
  io: StepIO,
  countTokens: CountTokens,
  rngState: RngState,
  options: { maxRounds?: number } = {},
): Promise<SeedingResult> {
  const { azr } = config;
  const target = azr.batchSize * azr.seedBatchFactor;
  const maxRounds = options.maxRounds ?? 50;
  const rng = new Rng(rngState);
  const templates = templatesOf(config);
  const seeds = new TaskBuffer<TripletTask>(target, [{ task: SEED_TRIPLET, step: 0 }]);

  let tripletRounds = 0;
  while (seeds.size < target && tripletRounds < maxRounds) {
    tripletRounds++;
    const items: ProposeItem[] = Array.from({ length: azr.batchSize }, (_, i) => {
      let refs = sampleReferences(seeds, azr.references, azr.referenceSampling, rng);
      let prompt = tripletProposePrompt(templates, "deduction", refs, azr.bannedModules);
      while (countTokens(prompt) > azr.proposerPromptMaxTokens && refs.length > 0) {
        refs = refs.slice(0, -1);
        prompt = tripletProposePrompt(templates, "deduction", refs, azr.bannedModules);
      }
      return { id: `seed${tripletRounds}.deduction.propose.${i}`, type: "deduction", prompt, promptTokens: countTokens(prompt), references: refs };
    });
    for (const task of await validate(items)) seeds.add(task as TripletTask, tripletRounds);
  }

  const programs = seeds.entries().map((e) => e.task);
  const induction = new TaskBuffer<InductionTask>(target);
  let inductionRounds = 0;
  let next = 0;
  while (induction.size < target && inductionRounds < maxRounds) {
    inductionRounds++;
    const items: ProposeItem[] = Array.from({ length: azr.batchSize }, (_, i) => {
      const program = programs[next++ % programs.length]!;
      const prompt = inductionProposePrompt(templates, program.snippet, azr.inductionInputs);
      return { id: `seed${inductionRounds}.induction.propose.${i}`, type: "induction", prompt, promptTokens: countTokens(prompt), references: [program] };
    });
    for (const task of await validate(items)) induction.add(task as InductionTask, inductionRounds);
  }

  const triplets = seeds.entries().map((e) => e.task);
  const inductionSeeds = induction.size > 0 ? induction.entries().map((e) => e.task) : [SEED_INDUCTION];
  return {
    triplets,
    induction: inductionSeeds,
    rng: rng.state(),
    rounds: { triplets: tripletRounds, induction: inductionRounds },
    complete: seeds.size >= target && induction.size >= target,
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
