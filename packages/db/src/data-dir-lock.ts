import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { DatabaseSetupError } from "./errors.ts";

/** PGlite is one process with one connection: a second process opening the same data directory
 * would corrupt it. An exclusive lock file (created with O_EXCL, holding pid and host) makes the
 * second opener fail with an explanation instead. A lock left by a dead process is taken over. */
export interface DataDirLock {
  path: string;
  release(): void;
}

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

export function acquireDataDirLock(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, "lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
      writeSync(fd, JSON.stringify(owner));
      closeSync(fd);
      return makeLock(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const owner = readOwner(file);
      if (owner && isAlive(owner)) {
        throw new DatabaseSetupError(
          `the embedded database in ${dataDir} is in use by process ${owner.pid} on ${owner.host} (since ${owner.since}); ` +
            "stop that process, or point this one elsewhere with AZR_DATA_DIR, or use PostgreSQL with DATABASE_URL",
          "locked",
        );
      }
      if (owner && owner.host !== hostname()) {
        throw new DatabaseSetupError(
          `the embedded database in ${dataDir} is locked by process ${owner.pid} on another host (${owner.host}); ` +
            `if that process is gone, delete ${file}`,
          "locked",
        );
      }
      rmSync(file, { force: true }); // stale: its owner died without releasing it
    }
  }
  throw new DatabaseSetupError(`could not lock ${file}; another process keeps taking it`, "locked");
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const v = JSON.parse(readFileSync(file, "utf8")) as Partial<LockOwner>;
    if (typeof v.pid === "number" && typeof v.host === "string") return { pid: v.pid, host: v.host, since: String(v.since) };
  } catch {
    // unreadable or half-written: treated as stale
  }
  return undefined;
}

function isAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function makeLock(file: string): DataDirLock {
  let held = true;
  const onExit = () => release();
  function release() {
    if (!held) return;
    held = false;
    process.off("exit", onExit);
    rmSync(file, { force: true });
  }
  process.on("exit", onExit);
  return { path: file, release };
}
