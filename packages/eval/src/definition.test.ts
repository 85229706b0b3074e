import { describe, expect, it } from "vitest";
import { BUILTIN_BENCHMARKS, BenchmarkDefinitionError, benchmarkDefinitionSchema, findBenchmark, resolveBenchmark } from "./definition.ts";

describe("benchmark registry", () => {
  it("holds the paper's set without sources, and fixture variants with them", () => {
    const paper = ["humaneval-plus", "mbpp-plus", "livecodebench", "aime24", "aime25", "amc23", "math500", "minerva", "olympiadbench", "cruxeval-i", "cruxeval-o"];
    for (const name of paper) {
      const d = findBenchmark(name);
      expect(d, name).toBeDefined();
      expect(d!.source).toBeUndefined();
      expect(d!.decoding.temperature).toBe(0);
    }
    expect(findBenchmark("math500")!.decoding).toEqual({ temperature: 0, topP: 0.95, maxTokens: 16_000, n: 1 });
    expect(findBenchmark("livecodebench")!.decoding.maxTokens).toBe(8096);
    expect(findBenchmark("cruxeval-i")!.cruxevalMode).toBe("input");
    expect(findBenchmark("humaneval-plus")!.evalplusTests).toBe("plus");
    const fixtures = BUILTIN_BENCHMARKS.filter((b) => b.name.startsWith("fixture-"));
    expect(fixtures.length).toBeGreaterThanOrEqual(6);
    expect(fixtures.every((b) => b.source)).toBe(true);
    expect(new Set(BUILTIN_BENCHMARKS.map((b) => b.name)).size).toBe(BUILTIN_BENCHMARKS.length);
  });

  it("merges validated overrides into a built-in", () => {
    const d = resolveBenchmark("livecodebench", { source: "/data/lcb", dateWindow: { from: "2024-08-01", to: "2025-02-01" }, decoding: { n: 8, temperature: 0.6 } });
    expect(d).toMatchObject({ name: "livecodebench", source: "/data/lcb", dateWindow: { from: "2024-08-01" }, decoding: { n: 8, temperature: 0.6, topP: 1, maxTokens: 8096 } });
    expect(findBenchmark("livecodebench")!.source).toBeUndefined();
  });

  it("names the field of a bad override or definition", () => {
    expect(() => resolveBenchmark("math500", { decoding: { n: 0 } })).toThrow(/decoding\.n/);
    expect(() => resolveBenchmark("math500", { dateWindow: { from: "2024-01-01" } })).toThrow(/dateWindow: only livecodebench/);
    expect(() => resolveBenchmark("livecodebench", { dateWindow: { from: "2025-01-01", to: "2024-01-01" } })).toThrow(/after/);
    expect(() => resolveBenchmark("math500", { bogus: 1 })).toThrow(BenchmarkDefinitionError);
    expect(() => resolveBenchmark("nope")).toThrow(/unknown benchmark "nope"/);
    expect(() => resolveBenchmark("math500", { promptTemplates: { azr: "azr-code" } })).toThrow(/promptTemplates\.azr/);
    const r = benchmarkDefinitionSchema.safeParse({ ...findBenchmark("cruxeval-o"), cruxevalMode: undefined });
    expect(r.success).toBe(false);
  });

  it("accepts a whole user definition", () => {
    const d = resolveBenchmark({ ...findBenchmark("math500"), name: "my-math", title: "Mine", source: "/x.jsonl" });
    expect(d.name).toBe("my-math");
  });
});
