import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

// Every bench's command line. The usage a bench prints for --help (or after a bad option) is its
// own header comment, so the usage lives in one place, next to what the bench measures.

type OptionSpec = Record<string, { type: "string"; default?: string } | { type: "boolean"; default?: boolean }>;

export interface BenchArgs<S extends OptionSpec> {
  /** A string option's value (its default when not given). */
  string(name: keyof S & string): string | undefined;
  /** A whole-number option's value, or `fallback` when not given; exits 2 naming the option when
   * it is not a whole number in [min, max]. */
  number(name: keyof S & string, fallback: number, range?: { min?: number; max?: number }): number;
  /** A boolean option. */
  flag(name: keyof S & string): boolean;
  /** Exits 2 with `message` and the usage: for a value the bench itself finds wrong. */
  fail(message: string): never;
}

/** The header comment of a bench script (`import.meta.url`), without the comment markers. */
export function usageOf(scriptUrl: string): string {
  const lines: string[] = [];
  for (const line of readFileSync(fileURLToPath(scriptUrl), "utf8").split("\n")) {
    if (!line.startsWith("//")) break;
    lines.push(line.replace(/^\/\/ ?/, ""));
  }
  return lines.join("\n");
}

/** How a bench's command line ends it: 0 with the usage on stdout (--help), 2 with the error and
 * the usage on stderr. */
export type BenchExit = (code: 0 | 2, text: string) => never;

const exitProcess: BenchExit = (code, text) => {
  (code === 0 ? process.stdout : process.stderr).write(`${text}\n`);
  process.exit(code);
};

/** Parses `argv` (default: this process's) against `spec`: an unknown option, a missing value or
 * a stray argument exits 2 with the usage; --help / -h prints the usage and exits 0. */
export function benchArgs<const S extends OptionSpec>(scriptUrl: string, spec: S, argv: string[] = process.argv.slice(2), exit: BenchExit = exitProcess): BenchArgs<S> {
  const usage = usageOf(scriptUrl);
  const fail: (message: string) => never = (message) => exit(2, `error: ${message}\n\n${usage}`);
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: { ...spec, help: { type: "boolean", short: "h" } }, strict: true, allowPositionals: false }).values;
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) exit(0, usage);
  return {
    fail,
    string: (name) => values[name] as string | undefined,
    flag: (name) => values[name] === true,
    number: (name, fallback, range = {}) => {
      const raw = values[name];
      if (raw === undefined) return fallback;
      const n = Number(raw);
      const { min = -Infinity, max = Infinity } = range;
      if (typeof raw !== "string" || raw.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
        const bounds = [min > -Infinity ? `≥ ${min}` : "", max < Infinity ? `≤ ${max}` : ""].filter(Boolean).join(" and ");
        fail(`--${name} must be a whole number${bounds ? ` ${bounds}` : ""} (got ${JSON.stringify(raw)})`);
      }
      return n;
    },
  };
}
