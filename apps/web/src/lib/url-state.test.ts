import { describe, expect, it } from "vitest";
import { patchQuery } from "./url-state.ts";

describe("patchQuery", () => {
  it("sets, replaces and removes keys and keeps the others in place", () => {
    expect(patchQuery("a=1&b=2", { b: "3", c: "x y" })).toBe("a=1&b=3&c=x+y");
    expect(patchQuery("a=1&show=both&q=roll", { show: null, q: "" })).toBe("a=1");
    expect(patchQuery("", { runs: "r1,r2" })).toBe("runs=r1%2Cr2");
  });
  it("builds on an earlier patch, so two changes in a row both stay", () => {
    const first = patchQuery("runs=a%2Cb", { keys: "train/loss" });
    expect(new URLSearchParams(patchQuery(first, { smooth: "0.5" })).get("keys")).toBe("train/loss");
  });
});
