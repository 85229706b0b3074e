import type { BackendName, SandboxBackend } from "./backend.ts";
import { BACKEND_NAMES, SandboxUnavailableError } from "./backend.ts";
import { BwrapBackend } from "./bwrap.ts";
import type { BwrapOptions } from "./bwrap.ts";
import { DockerBackend } from "./docker.ts";
import type { DockerOptions } from "./docker.ts";
import { ExecutorPool } from "./pool.ts";
import type { SystemModule } from "./system-modules.ts";
import type { PoolOptions } from "./pool.ts";

export interface BackendOptions {
  bwrap?: BwrapOptions;
  docker?: DockerOptions;
  /** Scoring pools only: Debian Python modules the runners import at start, on either backend
   * (see system-modules.ts; only sympy and mpmath are allowed). */
  systemModules?: readonly SystemModule[];
}

export function createBackend(name: BackendName, options: BackendOptions = {}): SandboxBackend {
  const systemModules = options.systemModules ?? [];
  return name === "docker"
    ? new DockerBackend({ ...options.docker, systemModules: options.docker?.systemModules ?? systemModules })
    : new BwrapBackend({ ...options.bwrap, systemModules: options.bwrap?.systemModules ?? systemModules });
}

export interface BackendAvailability {
  name: BackendName;
  available: boolean;
  /** What was tried and how it went (interpreter version when it works). */
  detail: string;
  problem?: string;
  fix?: string;
}

export interface SandboxAvailability {
  /** The backend `createExecutor({ backend: "auto" })` would use, if any. */
  preferred: BackendName | undefined;
  backends: BackendAvailability[];
}

/**
 * Starts one runner of each backend and runs a tiny program in it: the check `doctor` reports.
 * Never throws; a backend that cannot work says why and how to fix it.
 */
export async function checkSandboxAvailability(options: BackendOptions = {}): Promise<SandboxAvailability> {
  const backends: BackendAvailability[] = [];
  for (const name of BACKEND_NAMES) {
    const pool = new ExecutorPool(createBackend(name, options), { runners: 1, startTimeoutMs: 30_000 });
    try {
      await pool.start();
      const r = await pool.run({ id: "doctor", kind: "run", program: "def f(a, b):\n    return a + b", calls: ["2, 3"] });
      const c = r.calls[0]?.[0];
      if (r.status !== "ok" || c?.status !== "ok" || c.value.t !== "int" || c.value.v !== "5") {
        throw new Error(`test program gave ${JSON.stringify(r).slice(0, 300)}`);
      }
      backends.push({ name, available: true, detail: `Python ${pool.runtime?.python}; ${pool.backend.describe()}` });
    } catch (e) {
      const err = e as Error;
      backends.push({
        name,
        available: false,
        detail: "could not start a runner",
        problem: err instanceof SandboxUnavailableError ? err.message.split("\n")[0]! : err.message,
        fix:
          err instanceof SandboxUnavailableError
            ? err.fix
            : name === "bwrap"
              ? "sudo apt-get install bubblewrap util-linux python3; unprivileged user namespaces must be enabled (sysctl kernel.unprivileged_userns_clone=1 where that knob exists)"
              : "sudo apt-get install docker.io debootstrap && start dockerd && sudo bash docker/executor/build.sh",
      });
    } finally {
      await pool.close({ drain: false }).catch(() => undefined);
    }
  }
  return { preferred: backends.find((b) => b.available)?.name, backends };
}

export interface ExecutorConfig extends BackendOptions, PoolOptions {
  /** `auto` (default): bwrap, else Docker. There is no unsandboxed mode. */
  backend?: BackendName | "auto";
}

/** Creates and starts a pool on the configured backend; refuses to start (throws a
 * SandboxUnavailableError saying how to install a backend) if none works. */
export async function createExecutor(config: ExecutorConfig = {}): Promise<ExecutorPool> {
  const choice = config.backend ?? "auto";
  const order: BackendName[] = choice === "auto" ? [...BACKEND_NAMES] : [choice];
  const failures: string[] = [];
  for (const name of order) {
    const pool = new ExecutorPool(createBackend(name, config), config);
    try {
      return await pool.start();
    } catch (e) {
      await pool.close({ drain: false }).catch(() => undefined);
      failures.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new SandboxUnavailableError(
    `no sandbox backend works, and the executor has no unsandboxed mode:\n  ${failures.join("\n  ")}`,
    "install bubblewrap (sudo apt-get install bubblewrap util-linux) for the embedded default, or Docker (docker.io, then bash docker/executor/build.sh)",
  );
}
