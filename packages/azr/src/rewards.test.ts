import { describe, expect, it } from "vitest";
import { learnability, proposerReward, solveRate, solverReward } from "./rewards.ts";

describe("learnability", () => {
  it.each([
    [[0, 0, 0, 0, 0, 0, 0, 0], 0, 0],
    [[1, 1, 1, 1, 1, 1, 1, 1], 1, 0],
    [[1, 0, 0, 0, 0, 0, 0, 0], 0.125, 0.875],
    [[1, 1, 1, 1, 0, 0, 0, 0], 0.5, 0.5],
    [[1, 1, 1, 1, 1, 1, 1, 0], 0.875, 0.125],
    [[0.5, 0.5], 0.5, 0.5],
    [[], 0, 0],
  ])("scores %j: s = %d, r = %d", (scores, s, r) => {
    expect(solveRate(scores)).toBe(s);
    expect(learnability(scores)).toBe(r);
  });
});

describe("proposer reward", () => {
  const third = [1, 1, 0, 0, 0, 0, 0, 0];
  it.each([
    ["bad format", { formatOk: false, valid: false, scores: [] }, -1, -1],
    ["invalid proposal", { formatOk: true, valid: false, scores: [] }, -1, -1],
    ["learnable", { formatOk: true, valid: true, scores: third }, 0.75, 0.75],
    ["never solved", { formatOk: true, valid: true, scores: [0, 0, 0, 0, 0, 0, 0, 0] }, 0, -0.5],
    ["always solved", { formatOk: true, valid: true, scores: [1, 1, 1, 1, 1, 1, 1, 1] }, 0, -0.5],
  ])("%s: paper %d, reference %d", (_name, input, paper, reference) => {
    expect(proposerReward(input, "paper")).toBe(paper);
    expect(proposerReward(input, "reference")).toBe(reference);
  });
});

describe("solver reward", () => {
  it.each([
    [false, 1, -1],
    [false, 0, -1],
    [true, 0, -0.5],
    [true, 1, 1],
    [true, 0.4, 0.4],
  ])("format %s, score %d -> %d", (formatOk, score, reward) => {
    expect(solverReward(formatOk, score)).toBe(reward);
  });
});
