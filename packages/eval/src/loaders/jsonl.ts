import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { pyRepr } from "@azr/azr";
import type { PyValue } from "@azr/protocol";
import { PyJsonError, parsePyJson } from "../pyjson.ts";

// Reading benchmark JSONL: streamed line by line (LiveCodeBench files run to gigabytes), each
// line parsed with Python's JSON extensions and checked field by field, so a bad line names its
// file, line and field.

export class BenchmarkFormatError extends Error {
  override name = "BenchmarkFormatError";
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string | undefined,
    readonly detail: string,
  ) {
    super(`${file}:${line}${field ? `: field ${field}` : ""}: ${detail}`);
  }
}

/** The JSONL files of a source: the file itself, or a directory's *.jsonl files in name order. */
export async function sourceFiles(source: string): Promise<string[]> {
  let s;
  try {
    s = await stat(source);
  } catch {
    throw new BenchmarkFormatError(source, 0, undefined, "no such file or directory (benchmarks are never downloaded: point the benchmark at a file you have)");
  }
  if (!s.isDirectory()) return [source];
  const names = (await readdir(source)).filter((n) => n.endsWith(".jsonl")).sort();
  if (names.length === 0) throw new BenchmarkFormatError(source, 0, undefined, "directory holds no .jsonl files");
  return names.map((n) => path.join(source, n));
}

/** A parsed JSONL object with typed accessors whose errors name file, line and field. */
export class JsonlRecord {
  constructor(
    readonly file: string,
    readonly line: number,
    private readonly fields: Map<string, PyValue>,
  ) {}

  fail(field: string | undefined, detail: string): never {
    throw new BenchmarkFormatError(this.file, this.line, field, detail);
  }

  has(field: string): boolean {
    const v = this.fields.get(field);
    return v !== undefined && v.t !== "none";
  }

  get(field: string): PyValue | undefined {
    const v = this.fields.get(field);
    return v === undefined || v.t === "none" ? undefined : v;
  }

  /** The first of `names` present (for files that spell a field several ways). */
  first(names: readonly string[]): [string, PyValue] | undefined {
    for (const n of names) {
      const v = this.get(n);
      if (v !== undefined) return [n, v];
    }
    return undefined;
  }

  str(field: string): string;
  str(field: string, optional: true): string | undefined;
  str(field: string, optional = false): string | undefined {
    const v = this.get(field);
    if (v === undefined) return optional ? undefined : this.fail(field, "missing");
    if (v.t !== "str") return this.fail(field, `expected a string, got ${v.t}`);
    return v.v;
  }

  /** A string, or a number written as one (answers such as 204 or 0.5). */
  text(field: string, v: PyValue): string {
    if (v.t === "str") return v.v;
    if (v.t === "int" || v.t === "float") return pyRepr(v);
    return this.fail(field, `expected a string or number, got ${v.t}`);
  }

  list(field: string): PyValue[];
  list(field: string, optional: true): PyValue[] | undefined;
  list(field: string, optional = false): PyValue[] | undefined {
    const v = this.get(field);
    if (v === undefined) return optional ? undefined : this.fail(field, "missing");
    if (v.t !== "list") return this.fail(field, `expected a list, got ${v.t}`);
    return v.v;
  }

  number(field: string, fallback: number): number {
    const v = this.get(field);
    if (v === undefined) return fallback;
    if (v.t === "int") return Number(v.v);
    if (v.t === "float" && typeof v.v === "number") return v.v;
    return this.fail(field, `expected a finite number, got ${v.t}`);
  }
}

/** Every non-blank line of the source's files as a JsonlRecord, in order. */
export async function* readRecords(source: string): AsyncGenerator<JsonlRecord> {
  for (const file of await sourceFiles(source)) {
    const rl = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
    let n = 0;
    for await (const raw of rl) {
      n++;
      const text = raw.trim();
      if (text === "") continue;
      let value: PyValue;
      try {
        value = parsePyJson(text);
      } catch (e) {
        throw new BenchmarkFormatError(file, n, undefined, `not valid JSON: ${e instanceof PyJsonError ? e.message : String(e)}`);
      }
      if (value.t !== "dict") throw new BenchmarkFormatError(file, n, undefined, `expected a JSON object, got ${value.t}`);
      yield new JsonlRecord(file, n, new Map(value.v.map(([k, v]) => [(k as { v: string }).v, v])));
    }
  }
}
