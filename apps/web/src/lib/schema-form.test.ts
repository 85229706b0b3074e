import { describe, expect, it } from "vitest";
import { PRESETS, runConfigSchema } from "@azr/azr";
import { align, smooth } from "../components/Chart.tsx";
import { diffFrom, fieldsOf, issuesByPath, setPath } from "./schema-form.ts";

describe("the launch form's schema walk", () => {
  const fields = fieldsOf(runConfigSchema);
  const byPath = new Map(fields.map((f) => [f.path.join("."), f]));

  it("finds every leaf of the run config with its kind and bounds", () => {
    expect(byPath.get("azr.batchSize")).toEqual({ path: ["azr", "batchSize"], kind: "number", int: true, min: 1, max: 4096 });
    expect(byPath.get("optim.lr")).toMatchObject({ kind: "number", int: false });
    expect(byPath.get("model.backend")).toEqual({ path: ["model", "backend"], kind: "enum", options: ["tiny", "hf", "vllm"] });
    expect(byPath.get("azr.taskTypes")).toMatchObject({ kind: "enum-list", options: ["abduction", "deduction", "induction"] });
    expect(byPath.get("azr.bannedModules")).toMatchObject({ kind: "string-list" });
    expect(byPath.get("seed")).toMatchObject({ kind: "number", int: true });
    // Every field of every section is there: the form follows the schema.
    for (const section of ["azr", "sampling", "optim", "schedule", "executor", "model"] as const) {
      const shape = Object.keys((runConfigSchema.shape[section].def.innerType as unknown as { shape: object }).shape);
      for (const k of shape) expect(byPath.has(`${section}.${k}`), `${section}.${k}`).toBe(true);
    }
  });

  it("sends only what differs from the preset, and names a bad field by its path", () => {
    const base = runConfigSchema.parse(PRESETS["tiny-cpu"]);
    const edited = setPath(setPath(base, ["azr", "batchSize"], 2), ["optim", "lr"], 0.001);
    expect(diffFrom(base, edited)).toEqual({ azr: { batchSize: 2 }, optim: { lr: 0.001 } });
    expect(diffFrom(base, base)).toBeUndefined();
    const bad = runConfigSchema.safeParse(setPath(base, ["azr", "batchSize"], -3));
    expect(bad.success).toBe(false);
    const issues = issuesByPath(bad.error);
    expect([...issues.keys()]).toEqual(["azr.batchSize"]);
    expect(issues.get("azr.batchSize")).toMatch(/>=1/);
  });
});

describe("chart data", () => {
  it("aligns lines on the union of their x values, with gaps as null", () => {
    const data = align([
      { label: "a", color: "#000", xs: [0, 2], ys: [1, 3] },
      { label: "b", color: "#fff", xs: [1, 2], ys: [5, 6] },
    ]);
    expect(data).toEqual([[0, 1, 2], [1, null, 3], [null, 5, 6]]);
  });

  it("smooths with a debiased moving average (0 keeps the raw values)", () => {
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const s = smooth([2, null, 2, 4], 0.5);
    expect(s[0]).toBeCloseTo(2);
    expect(s[1]).toBeNull();
    expect(s[2]).toBeCloseTo(2);
    expect(s[3]).toBeCloseTo((0.125 * 2 + 0.25 * 2 + 0.5 * 4) / 0.875);
  });
});
