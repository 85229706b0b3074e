import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, fsyncSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Checkpoint, PrismaClient } from "@azr/db";
import { stateFromJson, stateToJson, type AzrState } from "@azr/azr";

// Checkpoints are written with an atomic protocol: everything goes into a temporary directory,
// which is renamed into place, and only then is the database row committed. A row therefore
// always points at a complete checkpoint; a crash leaves at most a temp dir (removed by `sweep`).

export interface CheckpointStoreOptions {
  /** Absolute directory holding `<runId>/step-<n>/`. */
  root: string;
  keepLast: number;
}

/** What saves the model side of a checkpoint: the worker, writing under its data root. */
export interface ModelSaver {
  save(absoluteDir: string): Promise<{ bytes: number }>;
}

export interface ControlState {
  version: 1;
  runId: string;
  step: number;
  azr: ReturnType<typeof stateToJson>;
  savedAt: string;
}

function dirSize(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const s = statSync(p);
    total += s.isDirectory() ? dirSize(p) : s.size;
  }
  return total;
}

function fsyncPath(p: string) {
  const fd = openSync(p, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class CheckpointStore {
  constructor(
    private readonly prisma: PrismaClient,
    readonly options: CheckpointStoreOptions,
  ) {}

  runDir(runId: string): string {
    return path.join(this.options.root, runId);
  }

  /** Saves model + control state for the state *after* `state.step - 1` steps. */
  async save(runId: string, state: AzrState, model: ModelSaver): Promise<Checkpoint> {
    const step = state.step - 1;
    const runDir = this.runDir(runId);
    mkdirSync(runDir, { recursive: true });
    const tmp = path.join(runDir, `.tmp-step-${step}-${randomBytes(4).toString("hex")}`);
    mkdirSync(tmp);
    try {
      await model.save(path.join(tmp, "model"));
      const control: ControlState = { version: 1, runId, step, azr: stateToJson(state), savedAt: new Date().toISOString() };
      const controlFile = path.join(tmp, "control.json");
      writeFileSync(controlFile, JSON.stringify(control));
      fsyncPath(controlFile);
      const final = path.join(runDir, `step-${step}`);
      rmSync(final, { recursive: true, force: true }); // an unrecorded leftover of a crashed attempt
      renameSync(tmp, final);
      fsyncPath(runDir);
      const sizeBytes = dirSize(final);
      const row = await this.prisma.checkpoint.upsert({
        where: { runId_step: { runId, step } },
        create: {
          runId,
          step,
          location: final,
          sizeBytes: BigInt(sizeBytes),
          contents: { model: "model/", control: "control.json", buffers: { abduction: state.buffers.abduction.size, deduction: state.buffers.deduction.size, induction: state.buffers.induction.size } },
        },
        update: { location: final, sizeBytes: BigInt(sizeBytes), deletedAt: null, createdAt: new Date() },
      });
      await this.applyRetention(runId);
      return row;
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** The newest complete checkpoint of a run, with its control state. */
  async latest(runId: string): Promise<{ row: Checkpoint; control: ControlState; state: AzrState } | undefined> {
    const rows = await this.prisma.checkpoint.findMany({ where: { runId, deletedAt: null }, orderBy: { step: "desc" } });
    for (const row of rows) {
      const loaded = this.load(row);
      if (loaded) return { row, ...loaded };
    }
    return undefined;
  }

  load(row: Checkpoint): { control: ControlState; state: AzrState } | undefined {
    const file = path.join(row.location, "control.json");
    if (!existsSync(file)) return undefined;
    const control = JSON.parse(readFileSync(file, "utf8")) as ControlState;
    const parsed = stateFromJson(control.azr);
    if (!parsed.ok) throw new Error(`checkpoint ${row.location} has an invalid control state: ${parsed.errors.join("; ")}`);
    return { control, state: parsed.state };
  }

  /** Keeps the last `keepLast` and every pinned checkpoint; deletes the rest (row marked first). */
  async applyRetention(runId: string): Promise<number> {
    const rows = await this.prisma.checkpoint.findMany({ where: { runId, deletedAt: null }, orderBy: { step: "desc" } });
    const doomed = rows.slice(this.options.keepLast).filter((r) => !r.pinned);
    for (const r of doomed) {
      await this.prisma.checkpoint.update({ where: { id: r.id }, data: { deletedAt: new Date() } });
      rmSync(r.location, { recursive: true, force: true });
    }
    return doomed.length;
  }

  /** Removes temp dirs and step dirs that no live row points at (left by a crash). */
  async sweep(runId: string): Promise<string[]> {
    const runDir = this.runDir(runId);
    if (!existsSync(runDir)) return [];
    const live = new Set((await this.prisma.checkpoint.findMany({ where: { runId, deletedAt: null }, select: { location: true } })).map((r) => r.location));
    const removed: string[] = [];
    for (const name of readdirSync(runDir)) {
      const p = path.join(runDir, name);
      if (!live.has(p)) {
        rmSync(p, { recursive: true, force: true });
        removed.push(name);
      }
    }
    return removed;
  }
}
