import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseRunConfig } from "@azr/azr";
import { afterAll, describe, expect, it } from "vitest";
import { AdminConfigError, defaultAdminConfig, loadAdminConfig } from "./admin-config.ts";
import { BenchmarkCatalog } from "./eval-benchmarks.ts";

const dir = mkdtempSync(path.join(tmpdir(), "azr-admin-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};
const digest = "a".repeat(64);

describe("admin configuration", () => {
  it("falls back to one local pool and the tiny model when no file is given", () => {
    expect(loadAdminConfig(undefined)).toEqual({ config: defaultAdminConfig, source: "built-in defaults" });
    expect(defaultAdminConfig.pools).toEqual([{ name: "local", launcher: "local", concurrency: 1, gpusPerWorker: 0, resources: {} }]);
  });

  it("loads pools, models and checkpoint settings from YAML", () => {
    const file = write(
      "ok.yaml",
      `pools:
  - name: h100
    launcher: docker
    gpusPerWorker: 4
    concurrency: 2
    images: ["registry.local/azr-worker@sha256:${digest}"]
models:
  qwen2.5-7b-coder:
    backend: vllm
    source: { kind: directory, path: models/qwen2.5-coder-7b }
checkpoints: { root: /data/ckpt, keepLast: 5, keepBestBy: reward/solve/mean }
seeds: { root: /data/azr-seeds }
`,
    );
    const { config } = loadAdminConfig(file);
    expect(config.pools[0]).toMatchObject({ name: "h100", launcher: "docker", gpusPerWorker: 4, socketPath: "/var/run/docker.sock" });
    expect(config.models["qwen2.5-7b-coder"]).toMatchObject({ backend: "vllm", trustRemoteCode: false });
    expect(config.checkpoints).toEqual({ root: "/data/ckpt", keepLast: 5, keepBestBy: "reward/solve/mean" });
    expect(config.seeds).toEqual({ root: "/data/azr-seeds" });
    // Seed files come from <data dir>/seeds unless the file says otherwise.
    expect(defaultAdminConfig.seeds).toEqual({ root: "seeds" });
  });

  it.each([
    ["an image pinned by tag", `pools: [{ name: d, launcher: docker, images: ["azr-worker:latest"] }]\nmodels: { tiny: { backend: tiny, source: { kind: random-init } } }`, "pools.0.images.0: must be pinned by digest"],
    ["a docker pool without images", `pools: [{ name: d, launcher: docker, images: [] }]\nmodels: { tiny: { backend: tiny, source: { kind: random-init } } }`, "pools.0.images: a docker pool needs at least one allowed image"],
    ["duplicate pool names", `pools: [{ name: a, launcher: local }, { name: a, launcher: local }]\nmodels: { tiny: { backend: tiny, source: { kind: random-init } } }`, "pools: pool names must be unique"],
    ["an unknown key", `pools: [{ name: a, launcher: local, privileged: true }]\nmodels: { tiny: { backend: tiny, source: { kind: random-init } } }`, 'pools.0: Unrecognized key: "privileged"'],
    ["broken YAML", "pools: [", "is not valid YAML"],
  ])("rejects %s with the field named", (_, text, message) => {
    const file = write("bad.yaml", text);
    expect(() => loadAdminConfig(file)).toThrow(AdminConfigError);
    expect(() => loadAdminConfig(file)).toThrow(message);
  });

  it.each([["image"], ["mounts"], ["privileged"], ["capabilities"], ["devices"], ["network"]])(
    "a run config cannot set %s (only pool and model names reach the launcher)",
    (key) => {
      const r = parseRunConfig({ [key]: "anything" }, "tiny-cpu");
      expect(r.ok).toBe(false);
      const nested = parseRunConfig({ model: { [key]: "x" } }, "tiny-cpu");
      expect(nested.ok).toBe(false);
    },
  );

  it("points built-in benchmarks at the user's data (relative to the admin file) and defines new ones; bad entries are named", () => {
    const file = write(
      "benchmarks.yaml",
      `pools: [{ name: local, launcher: local }]
models: { tiny: { backend: tiny, source: { kind: random-init } } }
benchmarks:
  humaneval-plus: { source: data/HumanEvalPlus.jsonl }
  my-math: { title: Our exam, kind: math, format: math-jsonl, source: /srv/exam.jsonl, promptTemplates: { azr: azr-math, base: base-math },
             decoding: { temperature: 0, topP: 1, maxTokens: 2048, n: 1 }, limits: { timeoutMs: 2000, memoryMb: 512 } }
`,
    );
    const { config } = loadAdminConfig(file);
    const catalog = new BenchmarkCatalog(config.benchmarks);
    expect(catalog.resolve("humaneval-plus").source).toBe(path.join(dir, "data/HumanEvalPlus.jsonl"));
    expect(catalog.resolve("my-math")).toMatchObject({ name: "my-math", kind: "math", source: "/srv/exam.jsonl" });
    expect(catalog.list().find((b) => b.name === "my-math")).toMatchObject({ origin: "custom", title: "Our exam" });
    expect(catalog.list().find((b) => b.name === "humaneval-plus")).toMatchObject({ origin: "configured" });
    expect(catalog.list().find((b) => b.name === "math500")).toMatchObject({ origin: "builtin", source: null });
    const bad = write("bad-bench.yaml", `pools: [{ name: local, launcher: local }]\nmodels: { tiny: { backend: tiny, source: { kind: random-init } } }\nbenchmarks: { math500: { decoding: { temperature: -1 } }, other: { kind: code } }\n`);
    expect(() => loadAdminConfig(bad)).toThrow(/benchmarks\.math500: invalid benchmark overrides: decoding\.temperature: /);
    expect(() => loadAdminConfig(bad)).toThrow(/benchmarks\.other: invalid benchmark definition: /);
  });
});
