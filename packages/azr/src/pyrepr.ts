import type { PyValue } from "@azr/protocol";

// Python's repr() for the executor's plain values, so gold outputs shown to solvers and stored in
// buffers read exactly as the reference's (which stores repr strings). Set and dict order is the
// order the executor reported, i.e. Python's iteration order.

export function pyRepr(v: PyValue): string {
  switch (v.t) {
    case "none":
      return "None";
    case "bool":
      return v.v ? "True" : "False";
    case "int":
      return BigInt(v.v).toString();
    case "float":
      return floatRepr(v.v);
    case "str":
      return strRepr(v.v);
    case "bytes":
      return bytesRepr(Buffer.from(v.v, "base64"));
    case "tuple":
      return v.v.length === 1 ? `(${pyRepr(v.v[0]!)},)` : `(${v.v.map(pyRepr).join(", ")})`;
    case "list":
      return `[${v.v.map(pyRepr).join(", ")}]`;
    case "set":
      return v.v.length === 0 ? "set()" : `{${v.v.map(pyRepr).join(", ")}}`;
    case "frozenset":
      return v.v.length === 0 ? "frozenset()" : `frozenset({${v.v.map(pyRepr).join(", ")}})`;
    case "dict":
      return `{${v.v.map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(", ")}}`;
  }
}

/** Whether `ast.literal_eval(pyRepr(v))` rebuilds `v`: false for nan/inf floats and frozensets,
 * whose reprs are not literals. Such gold outputs cannot be compared stably (azr-spec §9). */
export function isLiteralValue(v: PyValue): boolean {
  switch (v.t) {
    case "float":
      return typeof v.v === "number";
    case "frozenset":
      return false;
    case "tuple":
    case "list":
    case "set":
      return v.v.every(isLiteralValue);
    case "dict":
      return v.v.every(([k, x]) => isLiteralValue(k) && isLiteralValue(x));
    default:
      return true;
  }
}

/** repr(float): the shortest round-tripping digits (which JavaScript also computes), laid out
 * the way Python does: positional for exponents in [-4, 16), scientific otherwise. */
export function floatRepr(x: number | "nan" | "inf" | "-inf"): string {
  if (typeof x === "string") return x;
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const negative = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exp >= -4 && exp < 16) {
    let body: string;
    if (exp < 0) body = `0.${"0".repeat(-exp - 1)}${digits}`;
    else if (digits.length <= exp + 1) body = `${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
    else body = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
    return sign + body;
  }
  const m = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
  const e = Math.abs(exp).toString().padStart(2, "0");
  return `${sign}${m}e${exp < 0 ? "-" : "+"}${e}`;
}

// Python's str.isprintable(): everything except the "Other" and "Separator" categories, with
// the ASCII space as the one printable separator.
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (cp < 0x7f && cp >= 0x20) out += ch;
    else if (cp === 0x20 || !NON_PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x100) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return out + quote;
}

export function bytesRepr(b: Uint8Array): string {
  const hasSingle = b.includes(39);
  const quote = hasSingle && !b.includes(34) ? '"' : "'";
  let out = `b${quote}`;
  for (const c of b) {
    const ch = String.fromCharCode(c);
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (c === 9) out += "\\t";
    else if (c === 10) out += "\\n";
    else if (c === 13) out += "\\r";
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else out += `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return out + quote;
}
