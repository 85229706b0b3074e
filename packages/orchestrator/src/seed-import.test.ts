import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defaultRunConfig, SEED_TRIPLET } from "@azr/azr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSeedImport, resolveSeedFile } from "./seed-import.ts";

describe("seed files under the seed directory", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), "azr-seed-import-"));
    mkdirSync(path.join(root, "dir.jsonl"));
    writeFileSync(path.join(root, "empty.jsonl"), "\n\n");
    writeFileSync(path.join(root, "ok.jsonl"), JSON.stringify({ snippet: SEED_TRIPLET.snippet, input: "1", output: "1" }) + "\n");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("resolves only regular files inside the directory", () => {
    expect(resolveSeedFile(root, "ok.jsonl")).toBe(path.join(root, "ok.jsonl"));
    expect(() => resolveSeedFile(root, "../ok.jsonl")).toThrow(`seed file ../ok.jsonl: not under the seed directory ${root}`);
    expect(() => resolveSeedFile(root, "dir.jsonl")).toThrow("seed file dir.jsonl: not a regular file");
    expect(() => resolveSeedFile(undefined, "ok.jsonl")).toThrow("seed file ok.jsonl: this server has no seed directory (admin config seeds.root)");
  });

  it("reads the named files and inline rows; a file without rows is an error; a kind not given keeps the identity seed", () => {
    const config = (azr: object) => ({ ...defaultRunConfig("tiny-cpu"), azr: { ...defaultRunConfig("tiny-cpu").azr, seedSource: "import" as const, ...azr } });
    const got = loadSeedImport(config({ seedTripletsFile: "ok.jsonl" }), root);
    expect(got.triplets).toEqual([{ ...SEED_TRIPLET, input: "1", output: "1" }]);
    expect(got.induction).toEqual([]);
    expect(got.sources).toEqual({ triplets: { source: "seed file ok.jsonl", rows: 1 } });
    expect(() => loadSeedImport(config({ seedTripletsFile: "empty.jsonl" }), root)).toThrow("seed file empty.jsonl: holds no seed rows");
    expect(() => loadSeedImport(config({ seedInductionJsonl: '{"snippet": "def f(a):\\n    return a"}' }), root)).toThrow(/^azr\.seedInductionJsonl: line 1: inputs: /);
  });
});
