import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng, seedRngState, weightedPicker } from "./rng.ts";

describe("seeded RNG", () => {
  it("is a pure function of its state", () => {
    const a = Rng.fromSeed(7);
    const b = Rng.fromSeed(7);
    const xs = Array.from({ length: 100 }, () => a.nextUint32());
    expect(Array.from({ length: 100 }, () => b.nextUint32())).toEqual(xs);
    expect(Rng.fromSeed(8).nextUint32()).not.toBe(xs[0]);
  });

  it("resumes exactly from a serialised state", () => {
    const a = Rng.fromSeed(123);
    for (let i = 0; i < 17; i++) a.float();
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = new Rng(saved);
    expect(Array.from({ length: 50 }, () => b.float())).toEqual(Array.from({ length: 50 }, () => a.float()));
  });

  it("rejects invalid states", () => {
    expect(() => new Rng([0, 0, 0, 0])).toThrow(/all zero/);
    expect(() => new Rng([1, 2, 3, -1])).toThrow();
    expect(() => new Rng([1, 2, 3, 2 ** 32])).toThrow();
  });

  it("produces floats in [0, 1) and ints in range, roughly uniformly", () => {
    const r = Rng.fromSeed(1);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const x = r.float();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      counts[r.int(10)]++;
    }
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(200);
  });

  it("samples distinct indices without replacement", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 60 }), (seed, n, k) => {
        const r = Rng.fromSeed(seed);
        const idx = r.sampleIndices(n, k);
        expect(idx.length).toBe(Math.min(n, k));
        expect(new Set(idx).size).toBe(idx.length);
        for (const i of idx) expect(i >= 0 && i < n).toBe(true);
        const w = r.sampleIndicesWeighted(
          Array.from({ length: n }, (_, i) => i + 1),
          k,
        );
        expect(w.length).toBe(Math.min(n, k));
        expect(new Set(w).size).toBe(w.length);
      }),
      { numRuns: 500 },
    );
  });

  it("weights draws by the given weights", () => {
    const r = Rng.fromSeed(5);
    const pick = weightedPicker([1, 3]);
    let ones = 0;
    for (let i = 0; i < 20_000; i++) ones += pick(r);
    expect(ones / 20_000).toBeCloseTo(0.75, 1);
    const firsts: number[] = [0, 0, 0];
    for (let i = 0; i < 20_000; i++) firsts[r.sampleIndicesWeighted([1, 1, 2], 2)[0]!]! += 1;
    expect(firsts[2]! / 20_000).toBeCloseTo(0.5, 1);
  });

  it("seeds differ per seed and are never all zero", () => {
    expect(seedRngState(0)).not.toEqual(seedRngState(1));
    expect(seedRngState(0).some((w) => w !== 0)).toBe(true);
  });
});
