import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { BenchmarkCatalog, resolveBenchmarkSources } from "./eval-benchmarks.ts";

// The administrator's configuration: what compute exists (pools), which models may be trained
// (catalogue), where checkpoints go and where seed files may be read from. Runs refer to pools
// and models by name only, so a run config can never choose an image, a mount, a device,
// privileges or networking; a seed file it names is read only from under the seed directory.

const name = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "must be lowercase letters, digits, '.', '_' or '-' (max 63)");
/** Images are pinned by content digest so a tag moved on the registry cannot change what runs. */
const pinnedImage = z.string().regex(/^[^\s@]+@sha256:[a-f0-9]{64}$/, "must be pinned by digest: name@sha256:<64 hex>");

const resources = z
  .object({
    cpus: z.number().positive().max(512).optional(),
    memoryGb: z.number().positive().max(4096).optional(),
  })
  .strict();

const poolBase = {
  name,
  concurrency: z.number().int().min(1).max(1024).default(1),
  gpusPerWorker: z.number().int().min(0).max(64).default(0),
  resources: resources.default({}),
};

export const poolSchema = z.discriminatedUnion("launcher", [
  z.object({ ...poolBase, launcher: z.literal("local") }).strict(),
  z
    .object({
      ...poolBase,
      launcher: z.literal("docker"),
      images: z.array(pinnedImage).min(1, "a docker pool needs at least one allowed image"),
      socketPath: z.string().default("/var/run/docker.sock"),
    })
    .strict(),
  z
    .object({
      ...poolBase,
      launcher: z.literal("kubernetes"),
      images: z.array(pinnedImage).min(1, "a kubernetes pool needs at least one allowed image"),
      namespace: name.default("azr"),
      nodeSelector: z.record(z.string(), z.string()).default({}),
    })
    .strict(),
]);
export type PoolConfig = z.infer<typeof poolSchema>;

export const modelEntrySchema = z
  .object({
    backend: z.enum(["tiny", "hf", "vllm"]),
    /** A directory under the data root, or a hub id resolved from the worker's local cache. */
    source: z.discriminatedUnion("kind", [
      z.object({ kind: z.literal("directory"), path: z.string().min(1) }).strict(),
      z.object({ kind: z.literal("hub"), id: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "must look like owner/name") }).strict(),
      z.object({ kind: z.literal("random-init") }).strict(),
    ]),
    tokenizer: z.string().min(1).optional(),
    /** Architecture of a `tiny` model (byte-level transformer); ignored by other backends. */
    tiny: z
      .object({
        nLayer: z.number().int().min(1).max(48),
        nHead: z.number().int().min(1).max(64),
        dModel: z.number().int().min(8).max(4096),
        contextLength: z.number().int().min(16).max(65536),
      })
      .strict()
      .optional(),
    trustRemoteCode: z.boolean().default(false),
  })
  .strict();
export type ModelEntry = z.infer<typeof modelEntrySchema>;

export const adminConfigSchema = z
  .object({
    pools: z
      .array(poolSchema)
      .min(1, "at least one pool is needed")
      .refine((pools) => new Set(pools.map((p) => p.name)).size === pools.length, "pool names must be unique"),
    models: z.record(name, modelEntrySchema).refine((m) => Object.keys(m).length > 0, "at least one model is needed"),
    checkpoints: z
      .object({
        /** Relative paths are under the data directory (AZR_DATA_DIR, default .azr). */
        root: z.string().min(1).default("checkpoints"),
        keepLast: z.number().int().min(1).default(3),
        /** metric key whose best checkpoint is kept besides the last ones; none when unset */
        keepBestBy: z.string().optional(),
      })
      .strict()
      .default({ root: "checkpoints", keepLast: 3 }),
    /** Seed files a run config may import (azr.seedSource 'import'): only files under this
     * directory, named relative to it. Relative paths are under the data directory. */
    seeds: z
      .object({ root: z.string().min(1).default("seeds") })
      .strict()
      .default({ root: "seeds" }),
    /** Benchmarks: overrides of a built-in one (most often `source`: the file or directory of the
     * user's copy of the data; relative paths are relative to the admin file) or new definitions. */
    benchmarks: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "must be lower-case letters, digits and dashes"), z.unknown()).default({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    const catalog = new BenchmarkCatalog(config.benchmarks);
    for (const name of Object.keys(config.benchmarks)) {
      try {
        catalog.resolve(name);
      } catch (e) {
        ctx.addIssue({ code: "custom", path: ["benchmarks", name], message: (e as Error).message });
      }
    }
  });
export type AdminConfig = z.infer<typeof adminConfigSchema>;

/** What a fresh install gets: one local CPU pool and the tiny model. */
export const defaultAdminConfig: AdminConfig = adminConfigSchema.parse({
  pools: [{ name: "local", launcher: "local", concurrency: 1 }],
  models: { tiny: { backend: "tiny", source: { kind: "random-init" }, tiny: { nLayer: 2, nHead: 4, dModel: 128, contextLength: 3072 } } },
});

export class AdminConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AdminConfigError";
  }
}

/** Loads and validates the admin file (YAML or JSON). Errors name the file and the field. A
 * missing file means the defaults; a file that exists but is invalid stops the server. */
export function loadAdminConfig(file: string | undefined): { config: AdminConfig; source: string } {
  if (!file || !existsSync(file)) {
    if (file && process.env.AZR_ADMIN_CONFIG) throw new AdminConfigError(`admin config ${file} (AZR_ADMIN_CONFIG) does not exist`);
    return { config: defaultAdminConfig, source: "built-in defaults" };
  }
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, "utf8"));
  } catch (e) {
    throw new AdminConfigError(`admin config ${file} is not valid YAML: ${(e as Error).message}`);
  }
  const parsed = adminConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new AdminConfigError(`admin config ${file} is invalid:\n  ${issues.join("\n  ")}`);
  }
  const config = { ...parsed.data, benchmarks: resolveBenchmarkSources(parsed.data.benchmarks, path.dirname(path.resolve(file))) };
  return { config, source: path.resolve(file) };
}

export function findPool(config: AdminConfig, poolName: string): PoolConfig | undefined {
  return config.pools.find((p) => p.name === poolName);
}
