import { z } from "zod";
import { buffersFromJson, buffersJsonSchema, buffersToJson, createBuffers, type TaskBuffers } from "./buffers.ts";
import type { RunConfig } from "./config.ts";
import { rngStateSchema, seedRngState, type RngState } from "./rng.ts";
import type { InductionTask, TripletTask } from "./types.ts";

// What a checkpoint must hold for the algorithm to resume exactly: the next step number, the RNG
// state and the buffers.

export interface AzrState {
  /** The step the next plan is for (1 for a fresh run). */
  step: number;
  rng: RngState;
  buffers: TaskBuffers;
}

export function initialState(config: RunConfig, seeds: { triplets?: readonly TripletTask[]; induction?: readonly InductionTask[] } = {}): AzrState {
  return { step: 1, rng: seedRngState(config.seed), buffers: createBuffers(config.azr.maxPrograms, seeds) };
}

export const azrStateJsonSchema = z.object({
  version: z.literal(1),
  step: z.number().int().min(1),
  rng: rngStateSchema,
  buffers: buffersJsonSchema,
});
export type AzrStateJson = z.infer<typeof azrStateJsonSchema>;

export function stateToJson(s: AzrState): AzrStateJson {
  return { version: 1, step: s.step, rng: [...s.rng], buffers: buffersToJson(s.buffers) };
}

export function stateFromJson(json: unknown): { ok: true; state: AzrState } | { ok: false; errors: string[] } {
  const r = azrStateJsonSchema.safeParse(json);
  if (!r.success) return { ok: false, errors: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) };
  const b = buffersFromJson(r.data.buffers);
  if (!b.ok) return { ok: false, errors: b.errors.map((e) => `buffers.${e}`) };
  return { ok: true, state: { step: r.data.step, rng: r.data.rng as RngState, buffers: b.buffers } };
}
