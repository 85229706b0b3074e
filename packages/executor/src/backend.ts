import type { RunnerChannel } from "./channel.ts";

export const BACKEND_NAMES = ["bwrap", "docker"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** A way to start sandboxed runners. Both backends run the same runner under Debian's Python. */
export interface SandboxBackend {
  readonly name: BackendName;
  /** Checks that the backend can work here (binaries, daemon, image) and prepares shared state.
   * Throws a SandboxUnavailableError that says how to fix the problem. */
  prepare(): Promise<void>;
  /** Starts runner number `slot` (0-based; slots are reused when a runner is replaced). */
  startRunner(slot: number): Promise<RunnerChannel>;
  /** Releases shared state (containers, temp files). Runners are killed by the pool first. */
  close(): Promise<void>;
  /** Human-readable description of the isolation in force, for logs and `doctor`. */
  describe(): string;
}

export class SandboxUnavailableError extends Error {
  override name = "SandboxUnavailableError";
  constructor(
    message: string,
    /** What to run or install to make the backend work. */
    readonly fix: string,
  ) {
    super(`${message}\n  fix: ${fix}`);
  }
}
