import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { benchArgs, usageOf, type BenchExit } from "./options.ts";

class Exited extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
  ) {
    super(text);
  }
}
const exit: BenchExit = (code, text) => {
  throw new Exited(code, text);
};
function outcome(f: () => unknown): { code: number; text: string } | unknown {
  try {
    return f();
  } catch (e) {
    if (e instanceof Exited) return { code: e.code, text: e.text };
    throw e;
  }
}

const here = import.meta.url;
const spec = { rounds: { type: "string" }, backends: { type: "string", default: "bwrap" }, quick: { type: "boolean" } } as const;

describe("benchArgs", () => {
  it("reads values, defaults and fallbacks", () => {
    const args = benchArgs(here, spec, ["--rounds", "5", "--quick"], exit);
    expect(args.number("rounds", 3, { min: 1 })).toBe(5);
    expect(args.string("backends")).toBe("bwrap");
    expect(args.flag("quick")).toBe(true);
    expect(benchArgs(here, spec, [], exit).number("rounds", 3)).toBe(3);
  });
  it("prints the header comment for --help and exits 0", () => {
    expect(outcome(() => benchArgs(here, spec, ["--help"], exit))).toEqual({ code: 0, text: usageOf(here) });
    expect(usageOf(new URL("./executor/run.ts", here).href)).toContain("npx tsx bench/executor/run.ts");
  });
  it("exits 2 naming an unknown option, a missing value, a stray argument or a bad number", () => {
    const bad = (argv: string[]) => outcome(() => benchArgs(here, spec, argv, exit).number("rounds", 3, { min: 1, max: 10 })) as { code: number; text: string };
    expect(bad(["--round", "5"])).toMatchObject({ code: 2, text: expect.stringContaining("'--round'") });
    expect(bad(["--rounds"])).toMatchObject({ code: 2, text: expect.stringContaining("--rounds") });
    expect(bad(["5"])).toMatchObject({ code: 2, text: expect.stringContaining("'5'") });
    for (const v of ["x", "2.5", "0", "11", ""]) expect(bad(["--rounds", v]).text).toContain(`--rounds must be a whole number ≥ 1 and ≤ 10 (got ${JSON.stringify(v)})`);
  });
});

// Each bench, started as its header says: --help prints that header and runs nothing; a misspelt
// option stops it before any work, naming the option.
const benchDir = fileURLToPath(new URL(".", here));
const benches = readdirSync(benchDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(benchDir, d.name, "run.ts")))
  .map((d) => d.name);

function runBench(name: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const script = fileURLToPath(new URL(`./${name}/run.ts`, here));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b));
    child.stderr.on("data", (b: Buffer) => (err += b));
    child.on("exit", (code) => resolve({ code, out, err }));
  });
}

describe("every bench's command line", () => {
  it("finds the benches", () => {
    expect(benches).toEqual(expect.arrayContaining(["api", "azr-step", "control-plane", "eval", "executor", "web", "worker"]));
  });
  it.each(benches)("%s: --help prints its usage and exits 0; a misspelt option exits 2 naming it", async (name) => {
    const [help, bad] = await Promise.all([runBench(name, ["--help"]), runBench(name, ["--no-such-option"])]);
    expect(help).toMatchObject({ code: 0, err: "" });
    expect(help.out).toContain(`npx tsx bench/${name}/run.ts`);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--no-such-option");
    expect(bad.out).toBe("");
  }, 60_000);
});
