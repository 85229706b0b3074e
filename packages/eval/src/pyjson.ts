import { pyRepr } from "@azr/azr";
import type { PyValue } from "@azr/protocol";

// Benchmark files are written by Python's json module: integers of any size, and the bare
// NaN / Infinity / -Infinity tokens it emits by default. JSON.parse would round big integers and
// reject those tokens, so values are parsed straight into the executor's PyValue form.

export class PyJsonError extends Error {
  override name = "PyJsonError";
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 500;

/** Parses one JSON text (with Python's extensions) into a PyValue: objects become dicts with str
 * keys, arrays lists, numbers with a fraction or exponent floats, all others ints. */
export function parsePyJson(text: string): PyValue {
  let i = 0;
  const fail = (msg: string): never => {
    throw new PyJsonError(`${msg} at offset ${i}`, i);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const word = (w: string) => {
    if (text.startsWith(w, i)) {
      i += w.length;
      return true;
    }
    return false;
  };
  const str = (): string => {
    // text[i] === '"'; JSON.parse handles the escapes of one string token exactly.
    const start = i++;
    while (i < text.length) {
      const c = text[i];
      if (c === "\\") i += 2;
      else if (c === '"') break;
      else i++;
    }
    if (i >= text.length) fail("unterminated string");
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail("invalid string escape");
    }
  };
  const num = (): PyValue => {
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 4096));
    if (!m) return fail("invalid number");
    i += m[0].length;
    if (m[1] === undefined && m[2] === undefined) return { t: "int", v: BigInt(m[0]).toString() };
    const f = Number(m[0]);
    return { t: "float", v: Number.isFinite(f) ? f : f > 0 ? "inf" : "-inf" };
  };
  const value = (depth: number): PyValue => {
    if (depth > MAX_DEPTH) fail("nesting too deep");
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const items: [PyValue, PyValue][] = [];
      ws();
      if (text[i] === "}") {
        i++;
        return { t: "dict", v: items };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a string key");
        const k = str();
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        const v = value(depth + 1);
        const existing = items.findIndex(([key]) => key.t === "str" && key.v === k);
        // Python's json keeps the last of repeated keys.
        if (existing >= 0) items[existing] = [{ t: "str", v: k }, v];
        else items.push([{ t: "str", v: k }, v]);
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") {
          i++;
          return { t: "dict", v: items };
        } else fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const items: PyValue[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return { t: "list", v: items };
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          return { t: "list", v: items };
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return { t: "str", v: str() };
    if (word("true")) return { t: "bool", v: true };
    if (word("false")) return { t: "bool", v: false };
    if (word("null")) return { t: "none" };
    if (word("NaN")) return { t: "float", v: "nan" };
    if (word("Infinity")) return { t: "float", v: "inf" };
    if (word("-Infinity")) return { t: "float", v: "-inf" };
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return num();
    return fail(c === undefined ? "unexpected end of text" : `unexpected ${JSON.stringify(c)}`);
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail("trailing text");
  return v;
}

/** A Python value as it goes into an argument list: PyValue plus `complex`, which some MBPP+
 * inputs need and which plain data cannot carry. */
export type PyArg = PyValue | { t: "complex"; v: string };

/** Python source that evaluates to the value (an expression: nan and inf floats become
 * `float('nan')`, which no literal can express). */
export function pySource(v: PyArg): string {
  switch (v.t) {
    case "complex":
      return `complex(${pyRepr({ t: "str", v: v.v })})`;
    case "float":
      return typeof v.v === "string" ? `float('${v.v}')` : pyRepr(v);
    case "tuple":
      return v.v.length === 1 ? `(${pySource(v.v[0]!)},)` : `(${v.v.map(pySource).join(", ")})`;
    case "list":
      return `[${v.v.map(pySource).join(", ")}]`;
    case "set":
      return v.v.length === 0 ? "set()" : `{${v.v.map(pySource).join(", ")}}`;
    case "frozenset":
      return `frozenset([${v.v.map(pySource).join(", ")}])`;
    case "dict":
      return `{${v.v.map(([k, x]) => `${pySource(k)}: ${pySource(x)}`).join(", ")}}`;
    default:
      return pyRepr(v);
  }
}

/** `a, b, c` for a call. */
export function argsSource(args: readonly PyArg[]): string {
  return args.map(pySource).join(", ");
}
