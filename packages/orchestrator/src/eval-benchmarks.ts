import { existsSync } from "node:fs";
import path from "node:path";
import { BenchmarkDefinitionError, BUILTIN_BENCHMARKS, resolveBenchmark, type BenchmarkDefinition } from "@azr/eval";

// The benchmarks this installation can evaluate: @azr/eval's built-in definitions, with the
// administrator's entries on top (`benchmarks:` in the admin file: overrides of a built-in, most
// often its `source`, or a whole new definition), and per-evaluation overrides on top of that.

/** The admin file's `benchmarks` section: name → overrides of a built-in, or a new definition. */
export type AdminBenchmarks = Record<string, unknown>;

export interface BenchmarkInfo {
  name: string;
  title: string;
  kind: BenchmarkDefinition["kind"];
  format: BenchmarkDefinition["format"];
  /** Where its problems are read from; null until someone points it at a file or directory. */
  source: string | null;
  decoding: BenchmarkDefinition["decoding"];
  /** `builtin`, `configured` (a built-in the admin file changed) or `custom` (defined there). */
  origin: "builtin" | "configured" | "custom";
}

/** Source paths in the admin file may be relative to the file's directory. */
export function resolveBenchmarkSources(benchmarks: AdminBenchmarks, baseDir: string): AdminBenchmarks {
  return Object.fromEntries(
    Object.entries(benchmarks).map(([name, entry]) => {
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return [name, entry];
      const source = (entry as { source?: unknown }).source;
      return [name, typeof source === "string" && !path.isAbsolute(source) ? { ...entry, source: path.resolve(baseDir, source) } : entry];
    }),
  );
}

export class BenchmarkCatalog {
  constructor(private readonly configured: AdminBenchmarks = {}) {}

  /** Every benchmark by name; throws BenchmarkDefinitionError on an invalid admin entry. */
  list(): BenchmarkInfo[] {
    const names = [...new Set([...BUILTIN_BENCHMARKS.map((b) => b.name), ...Object.keys(this.configured)])];
    return names.map((name) => {
      const def = this.resolve(name);
      const builtin = BUILTIN_BENCHMARKS.some((b) => b.name === name);
      return {
        name,
        title: def.title,
        kind: def.kind,
        format: def.format,
        source: def.source ?? null,
        decoding: def.decoding,
        origin: !builtin ? "custom" : Object.hasOwn(this.configured, name) ? "configured" : "builtin",
      };
    });
  }

  /** The definition of `name` with the admin's entry and then `overrides` applied. Throws
   * BenchmarkDefinitionError naming the field of whatever is wrong. */
  resolve(name: string, overrides: unknown = {}): BenchmarkDefinition {
    const builtin = BUILTIN_BENCHMARKS.some((b) => b.name === name);
    const entry = Object.hasOwn(this.configured, name) ? this.configured[name] : undefined;
    let base: BenchmarkDefinition;
    if (builtin) {
      base = entry === undefined ? resolveBenchmark(name) : resolveBenchmark(name, entry);
    } else if (entry !== undefined) {
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new BenchmarkDefinitionError(`benchmark ${name}: the admin entry must be a mapping`);
      base = resolveBenchmark({ name, ...entry });
    } else {
      throw new BenchmarkDefinitionError(`unknown benchmark ${JSON.stringify(name)}; known: ${this.names().join(", ")}`);
    }
    return resolveBenchmark(base, overrides);
  }

  names(): string[] {
    return [...new Set([...BUILTIN_BENCHMARKS.map((b) => b.name), ...Object.keys(this.configured)])];
  }
}

/** A definition whose problems can be read: it has a source and the source exists. */
export function requireSource(def: BenchmarkDefinition): string {
  if (!def.source) {
    throw new BenchmarkDefinitionError(
      `benchmark ${def.name} has no source: nothing is downloaded; point it at your copy of the data (admin file benchmarks.${def.name}.source, or overrides.source)`,
    );
  }
  if (!existsSync(def.source)) throw new BenchmarkDefinitionError(`benchmark ${def.name}: its source ${def.source} does not exist`);
  return def.source;
}
