import { describe, expect, it } from "vitest";
import { computeAdvantages, groupAdvantages, WHITEN_EPS } from "./advantages.ts";

describe("TRR++ group advantages", () => {
  it("sequence statistics: rewards [1, 0, -1], equal weights", () => {
    // mean 0; Bessel variance (1 + 0 + 1) / 2 = 1; A = r / sqrt(1 + 1e-8)
    const a = groupAdvantages(
      [
        { reward: 1, tokens: 10 },
        { reward: 0, tokens: 100 },
        { reward: -1, tokens: 1 },
      ],
      "sequence",
    );
    const s = Math.sqrt(1 + WHITEN_EPS);
    expect(a[0]).toBeCloseTo(1 / s, 12);
    expect(a[1]).toBeCloseTo(0, 12);
    expect(a[2]).toBeCloseTo(-1 / s, 12);
  });

  it("token statistics weigh long responses more", () => {
    // rewards [1, -1] with 3 and 1 tokens: N = 4, mean = (3 - 1) / 4 = 0.5,
    // var = (3 * 0.25 + 1 * 2.25) / (4 - 1) = 1, A = [(1 - 0.5), (-1 - 0.5)] / sqrt(1 + 1e-8)
    const samples = [
      { reward: 1, tokens: 3 },
      { reward: -1, tokens: 1 },
    ];
    const s = Math.sqrt(1 + WHITEN_EPS);
    const token = groupAdvantages(samples, "token");
    expect(token[0]).toBeCloseTo(0.5 / s, 12);
    expect(token[1]).toBeCloseTo(-1.5 / s, 12);
    // The same group by sequences: mean 0, var = (1 + 1) / 1 = 2, A = ±1 / sqrt(2)
    const seq = groupAdvantages(samples, "sequence");
    expect(seq[0]).toBeCloseTo(1 / Math.sqrt(2 + WHITEN_EPS), 12);
    expect(seq[1]).toBeCloseTo(-1 / Math.sqrt(2 + WHITEN_EPS), 12);
  });

  it("gives zeros for empty, single and zero-variance groups in both modes", () => {
    for (const mode of ["sequence", "token"] as const) {
      expect(groupAdvantages([], mode)).toEqual([]);
      expect(groupAdvantages([{ reward: 0.7, tokens: 5 }], mode)).toEqual([0]);
      expect(
        groupAdvantages(
          [
            { reward: 0.1, tokens: 3 },
            { reward: 0.1, tokens: 9 },
            { reward: 0.1, tokens: 1 },
          ],
          mode,
        ),
      ).toEqual([0, 0, 0]);
    }
    // A group whose only tokens belong to one response has no token variance to speak of.
    expect(
      groupAdvantages(
        [
          { reward: 1, tokens: 1 },
          { reward: 0, tokens: 0 },
        ],
        "token",
      ),
    ).toEqual([0, 0]);
  });

  it("never returns NaN", () => {
    const a = groupAdvantages(
      [
        { reward: -1, tokens: 0 },
        { reward: 1, tokens: 0 },
        { reward: 0.5, tokens: 4 },
      ],
      "token",
    );
    expect(a.every(Number.isFinite)).toBe(true);
  });
});

describe("per-group normalisation", () => {
  it("normalises each (task type × role) group on its own", () => {
    const adv = computeAdvantages(
      [
        { id: "a", group: "deduction.solve", reward: 1, tokens: 1 },
        { id: "b", group: "deduction.solve", reward: -1, tokens: 1 },
        { id: "c", group: "abduction.propose", reward: 0.5, tokens: 1 },
        { id: "d", group: "abduction.propose", reward: 0.5, tokens: 1 },
        { id: "e", group: "induction.solve", reward: 1, tokens: 1 },
      ],
      "sequence",
    );
    const s = Math.sqrt(2 + WHITEN_EPS);
    expect(adv.get("a")).toBeCloseTo(1 / s, 12);
    expect(adv.get("b")).toBeCloseTo(-1 / s, 12);
    expect(adv.get("c")).toBe(0);
    expect(adv.get("d")).toBe(0);
    expect(adv.get("e")).toBe(0);
  });
});
