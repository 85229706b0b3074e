import type { PyValue } from "@azr/protocol";

// Python `==` for the executor's plain values: bool, int and float compare as numbers (exactly,
// as CPython does: 2**53 + 1 != float(2**53)), str and bytes never equal each other, a tuple
// never equals a list, set and frozenset compare as sets, dicts and sets ignore order, and nan
// equals nothing (values that crossed the sandbox are distinct objects, so Python's identity
// shortcut for `[x] == [x]` never applies).

type Num = { kind: "int"; v: bigint } | { kind: "float"; v: number };

function asNumber(v: PyValue): Num | undefined {
  switch (v.t) {
    case "bool":
      return { kind: "int", v: v.v ? 1n : 0n };
    case "int":
      return { kind: "int", v: BigInt(v.v) };
    case "float":
      return { kind: "float", v: v.v === "nan" ? NaN : v.v === "inf" ? Infinity : v.v === "-inf" ? -Infinity : v.v };
    default:
      return undefined;
  }
}

function numbersEqual(a: Num, b: Num): boolean {
  if (a.kind === "int" && b.kind === "int") return a.v === b.v;
  if (a.kind === "float" && b.kind === "float") return a.v === b.v;
  const f = (a.kind === "float" ? a.v : b.v) as number;
  const i = (a.kind === "int" ? a.v : b.v) as bigint;
  return Number.isInteger(f) && BigInt(f) === i;
}

function isSetLike(v: PyValue): v is Extract<PyValue, { t: "set" | "frozenset" }> {
  return v.t === "set" || v.t === "frozenset";
}

export function pyEqual(a: PyValue, b: PyValue): boolean {
  const na = asNumber(a);
  if (na) {
    const nb = asNumber(b);
    return nb !== undefined && numbersEqual(na, nb);
  }
  switch (a.t) {
    case "none":
      return b.t === "none";
    case "str":
      return b.t === "str" && a.v === b.v;
    case "bytes":
      return b.t === "bytes" && Buffer.from(a.v, "base64").equals(Buffer.from(b.v, "base64"));
    case "tuple":
    case "list":
      return b.t === a.t && a.v.length === b.v.length && a.v.every((x, i) => pyEqual(x, b.v[i]!));
    case "set":
    case "frozenset":
      // Checked both ways so the answer stays symmetric even for malformed input with repeats.
      return isSetLike(b) && a.v.length === b.v.length && a.v.every((x) => containsEqual(b.v, x)) && b.v.every((x) => containsEqual(a.v, x));
    case "dict":
      return (
        b.t === "dict" &&
        a.v.length === b.v.length &&
        dictWithin(a.v, b.v) &&
        dictWithin(b.v, a.v)
      );
    default:
      return false;
  }
}

function dictWithin(a: readonly [PyValue, PyValue][], b: readonly [PyValue, PyValue][]): boolean {
  const keys = b.map((e) => e[0]);
  return a.every(([k, v]) => {
    const match = findEqual(keys, k);
    return match >= 0 && pyEqual(v, b[match]![1]);
  });
}

// Linear search is fine for small containers; larger ones go through the hash buckets.
function findEqual(items: readonly PyValue[], x: PyValue): number {
  if (items.length > 16) {
    const h = hashKey(x);
    if (h !== null) {
      for (let i = 0; i < items.length; i++) if (hashKey(items[i]!) === h && pyEqual(items[i]!, x)) return i;
      return -1;
    }
  }
  for (let i = 0; i < items.length; i++) if (pyEqual(items[i]!, x)) return i;
  return -1;
}

function containsEqual(items: readonly PyValue[], x: PyValue): boolean {
  return findEqual(items, x) >= 0;
}

/** A string that two hashable values share whenever they are `==` in Python (nan aside, which
 * shares a key with other nans but is never equal); null for unhashable values (list, dict, set). */
export function hashKey(v: PyValue): string | null {
  switch (v.t) {
    case "none":
      return "N";
    case "bool":
      return v.v ? "n1" : "n0";
    case "int":
      return `n${BigInt(v.v).toString()}`;
    case "float": {
      if (typeof v.v === "string") return `f${v.v}`;
      return Number.isInteger(v.v) ? `n${BigInt(v.v).toString()}` : `f${v.v}`;
    }
    case "str":
      return `s${JSON.stringify(v.v)}`;
    case "bytes":
      return `b${Buffer.from(v.v, "base64").toString("base64")}`;
    case "tuple": {
      const parts: string[] = [];
      for (const x of v.v) {
        const h = hashKey(x);
        if (h === null) return null;
        parts.push(h);
      }
      return `(${parts.join(",")})`;
    }
    case "frozenset": {
      const parts: string[] = [];
      for (const x of v.v) {
        const h = hashKey(x);
        if (h === null) return null;
        parts.push(h);
      }
      return `{${parts.sort().join(",")}}`;
    }
    default:
      return null;
  }
}
