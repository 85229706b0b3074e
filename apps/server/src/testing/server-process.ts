import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

// For tests and benches that run the real processes: the control plane as `npm start` runs it
// (after setup), and the dashboard's server. One way to start them, read what they print, wait
// for a line and stop them.

/** What `npm start` runs after setup. */
export const SERVER_MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
/** The repository root: the working directory the server processes start in. */
export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

export interface NodeProcess {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** The first match of `pattern` in the output; rejects when the process exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/** Runs a TypeScript entry point with Node (`--import tsx`), as `npm start` does. `env` values
 * that are undefined are removed from the inherited environment. */
export function startTsx(script: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; what?: string } = {}): NodeProcess {
  const what = options.what ?? script;
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const listeners = new Set<() => void>();
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
    for (const l of listeners) l();
  });
  const waitFor = (pattern: RegExp, timeoutMs = 180_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const finish = (error?: Error, match?: RegExpMatchArray) => {
        clearTimeout(timer);
        listeners.delete(check);
        if (error) reject(error);
        else resolve(match!);
      };
      const check = () => {
        const m = pattern.exec(out);
        if (m) finish(undefined, m);
        else if (done) finish(new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${out}`));
      };
      const timer = setTimeout(() => finish(new Error(`${what} did not print ${pattern} within ${timeoutMs / 1000} s:\n${out}`)), timeoutMs);
      listeners.add(check);
      check();
    });
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    }
    return exited;
  };
  return { child, output: () => out, exited, waitFor, stop };
}

/** The control plane process (`apps/server/src/main.ts`) with these arguments. */
export function startServer(args: string[], env: NodeJS.ProcessEnv = {}): NodeProcess {
  return startTsx(SERVER_MAIN, args, { env, what: "the AZR server" });
}

/** The URL the control plane prints once it listens. */
export const LISTENING = /listening on (http:\/\/\S+)/;
