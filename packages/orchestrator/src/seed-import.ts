import { readFileSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import {
  givenSeedField,
  importInductionSeeds,
  importTripletSeeds,
  seedImportErrorText,
  type InductionTask,
  type RunConfig,
  type SeedImport,
  type TripletTask,
} from "@azr/azr";

// Seed buffers imported in the reference's JSONL formats (azr.seedSource 'import'): rows given
// inline in the run config, or files the administrator put under the seed directory (admin
// config `seeds.root`). A run config names a file relative to that directory and can reach
// nothing outside it, symlinks included. Every problem is an error naming the file and the
// line, raised before any buffer row is written.

/** A seed file above this size is refused rather than read into memory. */
export const MAX_SEED_FILE_BYTES = 256 * 1024 * 1024;

export class SeedImportError extends Error {
  override name = "SeedImportError";
}

export interface SeedSourceReport {
  /** `seed file <path>` or `azr.seedTripletsJsonl` */
  source: string;
  rows: number;
}

export interface ImportedSeeds {
  triplets: TripletTask[];
  induction: InductionTask[];
  sources: { triplets?: SeedSourceReport; induction?: SeedSourceReport };
}

/** The absolute path of `relative` inside `root`, which must exist as a readable regular file. */
export function resolveSeedFile(root: string | undefined, relative: string): string {
  if (!root) throw new SeedImportError(`seed file ${relative}: this server has no seed directory (admin config seeds.root)`);
  const abs = path.resolve(root, relative);
  const inside = (base: string, p: string) => {
    const rel = path.relative(base, p);
    return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
  };
  if (!inside(root, abs)) throw new SeedImportError(`seed file ${relative}: not under the seed directory ${root}`);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SeedImportError(
      code === "ENOENT" ? `seed file ${relative}: no such file in the seed directory ${root}` : `seed file ${relative}: cannot be read (${(e as Error).message})`,
    );
  }
  if (!inside(realpathSync(root), real)) throw new SeedImportError(`seed file ${relative}: resolves to ${real}, outside the seed directory ${root}`);
  const st = statSync(real);
  if (!st.isFile()) throw new SeedImportError(`seed file ${relative}: not a regular file`);
  if (st.size > MAX_SEED_FILE_BYTES) throw new SeedImportError(`seed file ${relative}: ${st.size} bytes, more than the ${MAX_SEED_FILE_BYTES} a seed file may have`);
  return real;
}

function readSeedFile(root: string | undefined, relative: string): string {
  const file = resolveSeedFile(root, relative);
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new SeedImportError(`seed file ${relative}: cannot be read (${(e as Error).message})`);
  }
}

function importPart<T>(source: string, text: string, parse: (jsonl: string) => SeedImport<T>): { tasks: T[]; report: SeedSourceReport } {
  const r = parse(text);
  if (r.errors.length) throw new SeedImportError(`${source}: ${seedImportErrorText(r.errors)}`);
  if (r.tasks.length === 0) throw new SeedImportError(`${source}: holds no seed rows`);
  return { tasks: r.tasks, report: { source, rows: r.tasks.length } };
}

/** The seeds a run config with seedSource 'import' names, read and validated in full. A kind it
 * gives no seeds for starts from the built-in identity seed. */
export function loadSeedImport(config: RunConfig, seedsRoot: string | undefined): ImportedSeeds {
  const { azr } = config;
  const out: ImportedSeeds = { triplets: [], induction: [], sources: {} };
  const part = <T>(fileField: string | undefined, inlineField: string | undefined, inlineName: string, parse: (jsonl: string) => SeedImport<T>) => {
    const file = givenSeedField(fileField);
    const inline = givenSeedField(inlineField);
    if (file !== undefined) return importPart(`seed file ${file}`, readSeedFile(seedsRoot, file), parse);
    if (inline !== undefined) return importPart(inlineName, inline, parse);
    return undefined;
  };
  const triplets = part(azr.seedTripletsFile, azr.seedTripletsJsonl, "azr.seedTripletsJsonl", importTripletSeeds);
  const induction = part(azr.seedInductionFile, azr.seedInductionJsonl, "azr.seedInductionJsonl", importInductionSeeds);
  if (triplets) [out.triplets, out.sources.triplets] = [triplets.tasks, triplets.report];
  if (induction) [out.induction, out.sources.induction] = [induction.tasks, induction.report];
  return out;
}
