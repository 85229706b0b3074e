import { z } from "zod";

// xoshiro128** (Blackman & Vigna): small, fast, and its whole state is four 32-bit words, so a
// checkpoint can store it exactly and a resumed run draws the same numbers as the original.

export const rngStateSchema = z
  .tuple([z.number().int(), z.number().int(), z.number().int(), z.number().int()])
  .refine((s) => s.every((w) => w >= 0 && w <= 0xffffffff), "rng state words must be uint32")
  .refine((s) => s.some((w) => w !== 0), "rng state must not be all zero");
export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function seedRngState(seed: number): RngState {
  const next = splitmix32(seed);
  const state: RngState = [next(), next(), next(), next()];
  if (state.every((w) => w === 0)) state[0] = 1;
  return state;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(state: RngState) {
    const parsed = rngStateSchema.parse(state);
    [this.s0, this.s1, this.s2, this.s3] = parsed;
  }

  static fromSeed(seed: number): Rng {
    return new Rng(seedRngState(seed));
  }

  /** A copy of the state; the generator continues from exactly here when rebuilt from it. */
  state(): RngState {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 bits of precision. */
  float(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Rng.int needs a positive integer, got ${n}`);
    return Math.floor(this.float() * n);
  }

  /** `k` distinct indices of [0, n), uniformly, in draw order (all of them, shuffled, if k >= n). */
  sampleIndices(n: number, k: number): number[] {
    const take = Math.min(k, n);
    if (take <= 0) return [];
    // Rejection is O(k) when k is small next to n; a partial Fisher-Yates avoids its slow tail.
    if (take * 4 <= n) {
      const seen = new Set<number>();
      const out: number[] = [];
      while (out.length < take) {
        const i = this.int(n);
        if (!seen.has(i)) {
          seen.add(i);
          out.push(i);
        }
      }
      return out;
    }
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < take; i++) {
      const j = i + this.int(n - i);
      const tmp = pool[i]!;
      pool[i] = pool[j]!;
      pool[j] = tmp;
    }
    return pool.slice(0, take);
  }

  /** `k` distinct indices drawn one after another with probability proportional to weight
   * among those not drawn yet (weights must be positive). */
  sampleIndicesWeighted(weights: readonly number[], k: number): number[] {
    const n = weights.length;
    const take = Math.min(k, n);
    if (take <= 0) return [];
    const cumulative = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      if (!(w > 0) || !Number.isFinite(w)) throw new RangeError(`weight ${i} must be positive and finite, got ${w}`);
      total += w;
      cumulative[i] = total;
    }
    const chosen: number[] = [];
    const seen = new Set<number>();
    let removed = 0;
    // Draw from the full cumulative table and redraw on repeats; once the repeats would make
    // that wasteful, rebuild the table without the drawn ones.
    let table = cumulative;
    let index = Array.from({ length: n }, (_, i) => i);
    let tableTotal = total;
    while (chosen.length < take) {
      if (removed * 2 > tableTotal) {
        const keep = index.filter((i) => !seen.has(i));
        const next = new Float64Array(keep.length);
        let acc = 0;
        keep.forEach((i, j) => {
          acc += weights[i]!;
          next[j] = acc;
        });
        table = next;
        index = keep;
        tableTotal = acc;
        removed = 0;
      }
      const pos = upperBound(table, this.float() * tableTotal);
      const picked = index[Math.min(pos, index.length - 1)]!;
      if (seen.has(picked)) continue;
      seen.add(picked);
      chosen.push(picked);
      removed += weights[picked]!;
    }
    return chosen;
  }
}

/** Index draws with probability proportional to fixed positive weights, O(log n) per draw. */
export function weightedPicker(weights: readonly number[]): (rng: Rng) => number {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((w, i) => {
    if (!(w > 0) || !Number.isFinite(w)) throw new RangeError(`weight ${i} must be positive and finite, got ${w}`);
    total += w;
    cumulative[i] = total;
  });
  return (rng) => Math.min(upperBound(cumulative, rng.float() * total), weights.length - 1);
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function upperBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
