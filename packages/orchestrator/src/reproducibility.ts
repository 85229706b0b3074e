import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";

// What a run needs on record to be reproduced: the code, the package versions, the worker image
// and the hardware. Captured when an attempt starts; a resumed run appends its attempts.

export interface WorkerDescription {
  backend: string;
  versions: Record<string, string>;
  devices: { kind: string; name: string; memoryBytes: number }[];
  image?: string;
  host?: string;
}

export interface ReproducibilityRecord {
  codeVersion: string;
  packages: Record<string, string>;
  controlPlane: { node: string; platform: string; cpus: number; cpuModel: string; memoryBytes: number };
  worker: WorkerDescription | null;
  capturedAt: string;
}

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

function codeVersion(): string {
  if (process.env.AZR_CODE_VERSION) return process.env.AZR_CODE_VERSION;
  try {
    const rev = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return dirty ? `${rev}+dirty` : rev;
  } catch {
    return "unknown";
  }
}

function packageVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    const lock = JSON.parse(readFileSync(`${repoRoot}package-lock.json`, "utf8")) as { packages?: Record<string, { version?: string }> };
    for (const name of ["@prisma/client", "@electric-sql/pglite", "pg-boss", "zod", "ws", "@trpc/server", "dockerode"]) {
      const v = lock.packages?.[`node_modules/${name}`]?.version;
      if (v) out[name] = v;
    }
  } catch {
    // a deployment without the lock file records what it can
  }
  return out;
}

export function captureReproducibility(worker: WorkerDescription | null): ReproducibilityRecord {
  const cpus = os.cpus();
  return {
    codeVersion: codeVersion(),
    packages: packageVersions(),
    controlPlane: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: cpus.length, cpuModel: cpus[0]?.model ?? "unknown", memoryBytes: os.totalmem() },
    worker,
    capturedAt: new Date().toISOString(),
  };
}
