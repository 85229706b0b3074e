import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { workerSchemaPath, workerSchemaText } from "./export-worker-schema.ts";
import { corpusSchemaFor, type CorpusEntry } from "./worker-corpus.ts";
import {
  ChunkAssembler,
  WORKER_LIMITS,
  encodeFrames,
  generateRequestSchema,
  workerMessageSchema,
  workerOps,
  workerRequestSchema,
} from "./worker.ts";

const corpus = JSON.parse(readFileSync(new URL("./worker-corpus.json", import.meta.url), "utf8")) as CorpusEntry[];

describe("worker protocol", () => {
  it("ships the JSON Schema the Python worker validates with, in sync with the zod schemas", () => {
    // Regenerate with: npx tsx packages/protocol/src/export-worker-schema.ts
    expect(readFileSync(workerSchemaPath, "utf8")).toBe(workerSchemaText());
    const doc = JSON.parse(workerSchemaText()) as { $defs: Record<string, unknown> };
    for (const op of workerOps) {
      expect(doc.$defs).toHaveProperty(`request.${op}`);
      expect(doc.$defs).toHaveProperty(`result.${op}`);
    }
  });

  it.each(corpus.map((e) => [e.name, e] as const))("corpus: %s", (_name, entry) => {
    const r = corpusSchemaFor(entry.schema).safeParse(entry.message);
    expect(r.success).toBe(entry.valid);
    if (r.success) expect(r.data).toEqual(entry.parsed);
  });

  it("corpus covers every request type, valid and invalid", () => {
    const types = new Set(corpus.filter((e) => e.schema === "request" && e.valid).map((e) => (e.message as { type: string }).type));
    expect([...types].sort()).toEqual([...workerOps].sort());
    expect(corpus.filter((e) => !e.valid).length).toBeGreaterThan(30);
  });

  it("applies defaults to a minimal generate request", () => {
    const r = workerRequestSchema.parse({ type: "generate", id: "a", prompts: ["x"] });
    expect(r).toMatchObject({ n: 1, temperature: 1, topP: 1, topK: -1, maxTokens: 256, stop: [], store: true, returnLogprobs: false });
  });

  it("names the failing field", () => {
    const r = generateRequestSchema.safeParse({ type: "generate", id: "a", prompts: ["x"], topP: 2 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["topP"]);
  });

  it("keeps small messages in one frame and cuts large ones into ordered chunks", () => {
    const small = { type: "ping", id: "p1" };
    expect(encodeFrames(small)).toEqual([JSON.stringify(small)]);
    const big = { type: "generate", id: "g1", prompts: Array.from({ length: 300 }, (_, i) => `prompt ${i} "quoted" ✓ 😀`) };
    const frames = encodeFrames(big, 1000);
    expect(frames.length).toBeGreaterThan(5);
    const a = new ChunkAssembler();
    let whole: string | null = null;
    for (const f of frames) {
      const msg = workerMessageSchema.safeParse(JSON.parse(f));
      expect(msg.success).toBe(false); // chunks are not worker messages; they are reassembled first
      whole = a.push(JSON.parse(f));
    }
    expect(JSON.parse(whole!)).toEqual(big);
  });

  it("rejects chunks out of order and messages past the size limit", () => {
    const frames = encodeFrames({ type: "generate", id: "g2", prompts: ["x".repeat(5000)] }, 1000).map((f) => JSON.parse(f));
    const a = new ChunkAssembler();
    a.push(frames[0]);
    expect(() => a.push(frames[2])).toThrow(/out of order/);
    const small = new ChunkAssembler(2500);
    expect(() => frames.forEach((f) => small.push(f))).toThrow(/exceeds/);
    expect(WORKER_LIMITS.maxMessageBytes).toBeGreaterThan(WORKER_LIMITS.chunkChars);
  });
});
