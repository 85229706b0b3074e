import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { passAtK, summarise } from "./passk.ts";

function binom(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let r = 1n;
  for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
  return r;
}

describe("pass@k", () => {
  it("matches known values", () => {
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 12);
    expect(passAtK(10, 3, 5)).toBeCloseTo(1 - 21 / 252, 12); // 1 − C(7,5)/C(10,5) = 0.91666…
    expect(passAtK(10, 0, 5)).toBe(0);
    expect(passAtK(10, 6, 5)).toBe(1); // n − c < k
    expect(passAtK(1, 1, 1)).toBe(1);
    expect(passAtK(200, 1, 100)).toBeCloseTo(0.5, 12);
  });

  it("equals 1 − C(n−c,k)/C(n,k) computed exactly", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n }), fc.integer({ min: 1, max: n }))), ([n, c, k]) => {
        const exact = 1 - Number((binom(n - c, k) * 10n ** 15n) / binom(n, k)) / 1e15;
        expect(passAtK(n, c, k)).toBeCloseTo(exact, 9);
      }),
    );
  });

  it("rejects impossible arguments", () => {
    expect(() => passAtK(5, 6, 1)).toThrow(RangeError);
    expect(() => passAtK(5, 1, 6)).toThrow(/1 ≤ k ≤ n/);
    expect(() => passAtK(5, 1.5, 1)).toThrow(RangeError);
  });

  it("summarises over problems, reporting only ks every problem has samples for", () => {
    const r = (c: number, n: number) => ({ problemId: "p", samples: [], correct: c, n });
    const s = summarise([r(3, 10), r(0, 10), r(10, 10)], [1, 5, 20]);
    expect(s["pass@1"]).toBeCloseTo((0.3 + 0 + 1) / 3, 12);
    expect(s["pass@5"]).toBeCloseTo((1 - 21 / 252 + 0 + 1) / 3, 12);
    expect(s["pass@20"]).toBeUndefined();
    expect(s).toMatchObject({ solved: 2, total: 3 });
    expect(s.accuracy).toBeCloseTo(13 / 30, 12);
    expect(summarise([], [1])).toEqual({ "pass@1": 0, accuracy: 0, solved: 0, total: 0 });
  });
});
