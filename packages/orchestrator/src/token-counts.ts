import type { CountTokens, TokenCounting } from "@azr/azr";
import type { Policy } from "./policy.ts";

// Token counts are the worker's (its tokenizer is the real one), but @azr/azr's planners count
// synchronously. So a plan runs against a cache; the prompts it found no count for are sent to
// the worker in one request, and the plan runs again from the same inputs until every count is
// known. An unknown prompt counts as too long, so the first run walks the longest path (every
// fallback a too-long prompt would take) and the second, with real counts, only revisits prompts
// the first one drew.

const MAX_ROUNDS = 8;
/** Prompts differ at every step (new references): beyond this many the cache starts over. */
const MAX_CACHED = 50_000;

export function workerTokenCounting(policy: Pick<Policy, "countTokens">, cache = new Map<string, number>()): TokenCounting {
  return async (plan) => {
    if (cache.size > MAX_CACHED) cache.clear();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const unknown = new Set<string>();
      const countTokens: CountTokens = (text) => {
        const n = cache.get(text);
        if (n === undefined) unknown.add(text);
        return n ?? Number.POSITIVE_INFINITY;
      };
      const out = plan(countTokens);
      if (unknown.size === 0) return out;
      const texts = [...unknown];
      const counts = await policy.countTokens(texts);
      if (counts.length !== texts.length) throw new Error(`countTokens: expected ${texts.length} counts, got ${counts.length}`);
      texts.forEach((t, i) => cache.set(t, counts[i]!));
    }
    throw new Error(`planning did not settle on token counts after ${MAX_ROUNDS} rounds`);
  };
}
