import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  SEED_INDUCTION,
  SEED_TRIPLET,
  TaskBuffer,
  buffersFromJson,
  buffersToJson,
  createBuffers,
  importInductionSeeds,
  importTripletSeeds,
  sampleReferences,
  selectSolverTasks,
} from "./buffers.ts";
import { Rng } from "./rng.ts";
import type { TripletTask } from "./types.ts";

const triplet = (i: number): TripletTask => ({ kind: "triplet", snippet: `def f(x):\n    return x + ${i}`, input: "1", output: String(1 + i), imports: [] });

describe("buffers", () => {
  it("start from the reference seeds, deduction and abduction separately", () => {
    const b = createBuffers(100);
    expect(b.deduction.entries()).toEqual([{ task: SEED_TRIPLET, step: 0 }]);
    expect(b.abduction.entries()).toEqual([{ task: SEED_TRIPLET, step: 0 }]);
    expect(b.induction.entries()).toEqual([{ task: SEED_INDUCTION, step: 0 }]);
    b.deduction.add(triplet(1), 1);
    expect(b.abduction.size).toBe(1);
    expect(SEED_INDUCTION.inputs).toHaveLength(6);
  });

  it("reject exact duplicates and keep the oldest entries at the cap", () => {
    const buf = new TaskBuffer<TripletTask>(3);
    expect(buf.add(triplet(1), 1)).toBe("added");
    expect(buf.add({ ...triplet(1) }, 2)).toBe("duplicate");
    expect(buf.add({ ...triplet(1), imports: ["import math"] }, 2)).toBe("added");
    expect(buf.add(triplet(2), 2)).toBe("added");
    expect(buf.add(triplet(3), 3)).toBe("full");
    expect(buf.entries().map((e) => e.step)).toEqual([1, 2, 2]);
  });

  it("clone independently", () => {
    const a = new TaskBuffer<TripletTask>(10, [{ task: triplet(1), step: 0 }]);
    const b = a.clone();
    b.add(triplet(2), 1);
    expect([a.size, b.size]).toEqual([1, 2]);
    expect(b.add(triplet(1), 5)).toBe("duplicate");
  });

  it("keep their invariants under any sequence of adds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 5 })), { maxLength: 80 }), (cap, adds) => {
        const buf = new TaskBuffer<TripletTask>(cap);
        const firstSeen: number[] = [];
        for (const [i, step] of adds) {
          const before = buf.size;
          const outcome = buf.add(triplet(i), step);
          if (outcome === "added") firstSeen.push(i);
          expect(buf.size).toBe(before + (outcome === "added" ? 1 : 0));
        }
        const keys = buf.entries().map((e) => e.task.snippet);
        expect(buf.size).toBeLessThanOrEqual(cap);
        expect(new Set(keys).size).toBe(keys.length);
        // The cap keeps the first distinct entries in arrival order.
        const distinct = [...new Set(adds.map(([i]) => i))].slice(0, cap);
        expect(firstSeen).toEqual(distinct);
        const round = buffersFromJson(JSON.parse(JSON.stringify(buffersToJson({ abduction: buf, deduction: buf.clone(), induction: createBuffers(cap).induction }))));
        expect(round.ok && round.buffers.abduction.entries()).toEqual(buf.entries());
      }),
      { numRuns: 300 },
    );
  });

  it("serialise to JSON and back, rejecting malformed checkpoints with the field", () => {
    const b = createBuffers(50);
    b.induction.add({ ...SEED_INDUCTION, message: "other" }, 3);
    const json = JSON.parse(JSON.stringify(buffersToJson(b)));
    const back = buffersFromJson(json);
    expect(back.ok).toBe(true);
    if (back.ok) expect(buffersToJson(back.buffers)).toEqual(json);
    const bad = { ...json, deduction: [{ task: { ...SEED_TRIPLET, output: 5 }, step: 0 }] };
    expect(buffersFromJson(bad)).toEqual({ ok: false, errors: ["deduction.0.task.output: Invalid input: expected string, received number"] });
  });
});

describe("seed import (reference JSONL)", () => {
  it("reads triplet rows, tolerating extra fields and string imports", () => {
    const jsonl = [
      JSON.stringify({ snippet: "def f(a):\n    return a", input: "'x'", output: "'x'", imports: [], original_snippet: "def f(a):\n    return a", composite_functions: [] }),
      JSON.stringify({ snippet: "import math\ndef f(a):\n    return math.floor(a)", input: "2.5", output: "2", imports: "import math" }),
      "",
    ].join("\n");
    expect(importTripletSeeds(jsonl)).toEqual({
      tasks: [
        { kind: "triplet", snippet: "def f(a):\n    return a", input: "'x'", output: "'x'", imports: [] },
        { kind: "triplet", snippet: "import math\ndef f(a):\n    return math.floor(a)", input: "2.5", output: "2", imports: ["import math"] },
      ],
      errors: [],
    });
  });

  it("reports bad rows by line and field", () => {
    const jsonl = ['{"snippet": "def f(a): return a", "input": "1"}', "{not json", '{"snippet": "s", "input": "1", "output": "<A object at 0x7f>"}'].join("\n");
    const r = importTripletSeeds(jsonl);
    expect(r.tasks).toEqual([]);
    expect(r.errors[0]).toBe("line 1: output: Invalid input: expected string, received undefined");
    expect(r.errors[1]).toMatch(/^line 2: invalid JSON/);
    expect(r.errors[2]).toMatch(/^line 3: output: not a Python literal/);
  });

  it("reads induction rows", () => {
    const row = { snippet: "def f(a):\n    return a", inputs: ["1", "2"], outputs: ["1", "2"], message: "identity", imports: [] };
    expect(importInductionSeeds(JSON.stringify(row)).tasks).toEqual([{ kind: "induction", ...row }]);
    const bad = importInductionSeeds(JSON.stringify({ ...row, outputs: ["1"] }));
    expect(bad.errors).toContain("line 1: outputs: Too small: expected array to have >=2 items");
  });

  it("seed both triplet buffers with the imported set", () => {
    const seeds = [triplet(1), triplet(2)];
    const b = createBuffers(10, { triplets: seeds });
    expect(b.abduction.entries().map((e) => e.task)).toEqual(seeds);
    expect(b.deduction.entries().map((e) => e.task)).toEqual(seeds);
  });
});

describe("sampling", () => {
  const buf = new TaskBuffer<TripletTask>(
    100,
    Array.from({ length: 20 }, (_, i) => ({ task: triplet(i), step: Math.floor(i / 5) })),
  );

  it("draws K distinct references, or all of a small buffer", () => {
    const r = Rng.fromSeed(3);
    const refs = sampleReferences(buf, 6, "uniform", r);
    expect(refs).toHaveLength(6);
    expect(new Set(refs).size).toBe(6);
    const small = new TaskBuffer<TripletTask>(10, [{ task: triplet(1), step: 0 }]);
    expect(sampleReferences(small, 6, "recency", r)).toEqual([triplet(1)]);
  });

  it("favours recent entries in recency mode", () => {
    const r = Rng.fromSeed(4);
    let uniformRecent = 0;
    let recencyRecent = 0;
    for (let i = 0; i < 2000; i++) {
      uniformRecent += sampleReferences(buf, 1, "uniform", r).filter((t) => Number(t.output) > 15).length;
      recencyRecent += sampleReferences(buf, 1, "recency", r).filter((t) => Number(t.output) > 15).length;
    }
    // last 5 entries (step 3, weight 4 of total 5*(1+2+3+4)=50): 40% vs 25% uniformly
    expect(uniformRecent / 2000).toBeCloseTo(0.25, 1);
    expect(recencyRecent / 2000).toBeCloseTo(0.4, 1);
  });

  it("selects solver tasks newest first, then fills uniformly from the whole buffer", () => {
    const r = Rng.fromSeed(5);
    const tasks = selectSolverTasks(buf, 8, 4, 1, r);
    // step 4 with window 1: entries of step >= 3 (the last five), newest first
    expect(tasks.slice(0, 5)).toEqual([19, 18, 17, 16, 15].map(triplet));
    expect(tasks).toHaveLength(8);
    const many = selectSolverTasks(buf, 3, 4, 1, r);
    expect(many).toEqual([19, 18, 17].map(triplet));
    const seedsOnly = selectSolverTasks(createBuffers(10).deduction, 4, 1, 1, r);
    expect(seedsOnly).toEqual([SEED_TRIPLET, SEED_TRIPLET, SEED_TRIPLET, SEED_TRIPLET]);
  });
});
