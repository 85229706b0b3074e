import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Path of the stdlib-only Python runner that every sandbox runs. */
export const RUNNER_PATH = fileURLToPath(new URL("../python/azr_runner.py", import.meta.url));

let cached: string | undefined;

/** The runner's source. It is passed to the interpreter with `-c`, so neither backend needs a
 * bind mount or an image rebuild when the runner changes. */
export function runnerSource(): string {
  cached ??= readFileSync(RUNNER_PATH, "utf8");
  return cached;
}

/** Interpreter flags: no user site, no `site`, no script directory on sys.path. `-E` (part of
 * `-I`) is left out on purpose: both backends start Python with an environment they build from
 * nothing, and PYTHONHASHSEED must reach it so that str/bytes hashing (set and dict iteration
 * order inside programs) is identical on every runner and backend. */
export const PYTHON_FLAGS = ["-s", "-S", "-P"] as const;

export function pythonCommand(python: string): string[] {
  return [python, ...PYTHON_FLAGS, "-c", runnerSource()];
}
