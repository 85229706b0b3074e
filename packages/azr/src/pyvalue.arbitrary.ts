import fc from "fast-check";
import type { PyValue } from "@azr/protocol";

// fast-check generators for executor values (test helper).

const scalar: fc.Arbitrary<PyValue> = fc.oneof(
  fc.constant<PyValue>({ t: "none" }),
  fc.boolean().map((v): PyValue => ({ t: "bool", v })),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map((v): PyValue => ({ t: "int", v: v.toString() })),
  fc.integer({ min: -3, max: 3 }).map((v): PyValue => ({ t: "int", v: String(v) })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v): PyValue => ({ t: "float", v })),
  fc.constantFrom<PyValue>({ t: "float", v: 1 }, { t: "float", v: 0.5 }, { t: "float", v: -0 }),
  fc.string({ unit: "binary", maxLength: 8 }).map((v): PyValue => ({ t: "str", v })),
  fc.uint8Array({ maxLength: 6 }).map((b): PyValue => ({ t: "bytes", v: Buffer.from(b).toString("base64") })),
);

/** Hashable literal values (no floats that are nan/inf, no frozensets). */
const hashable: fc.Arbitrary<PyValue> = fc.letrec<{ h: PyValue }>((tie) => ({
  h: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, fc.array(tie("h"), { maxLength: 3 }).map((v): PyValue => ({ t: "tuple", v }))),
})).h;

function dedupe(items: PyValue[], key: (v: PyValue) => string): PyValue[] {
  const seen = new Set<string>();
  return items.filter((x) => {
    const k = key(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Literal values as `ast.literal_eval` could build them (sets/dicts with distinct keys). */
export function literalValue(hashKey: (v: PyValue) => string | null): fc.Arbitrary<PyValue> {
  const k = (v: PyValue) => hashKey(v) ?? JSON.stringify(v);
  return fc.letrec<{ v: PyValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      scalar,
      fc.array(tie("v"), { maxLength: 4 }).map((v): PyValue => ({ t: "list", v })),
      fc.array(tie("v"), { maxLength: 4 }).map((v): PyValue => ({ t: "tuple", v })),
      fc.array(hashable, { maxLength: 4 }).map((v): PyValue => ({ t: "set", v: dedupe(v, k) })),
      fc.array(fc.tuple(hashable, tie("v")), { maxLength: 4 }).map((pairs): PyValue => {
        const seen = new Set<string>();
        return { t: "dict", v: pairs.filter(([key]) => (seen.has(k(key)) ? false : (seen.add(k(key)), true))) };
      }),
    ),
  })).v;
}

/** Any executor value, including nan/inf and frozensets (set elements and dict keys distinct,
 * as in Python). */
export function anyValue(hashKey: (v: PyValue) => string | null): fc.Arbitrary<PyValue> {
  const k = (v: PyValue) => hashKey(v) ?? JSON.stringify(v);
  return fc.letrec<{ v: PyValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      scalar,
      fc.constantFrom<PyValue>({ t: "float", v: "nan" }, { t: "float", v: "inf" }, { t: "float", v: "-inf" }),
      fc.array(tie("v"), { maxLength: 3 }).map((v): PyValue => ({ t: "list", v })),
      fc.array(tie("v"), { maxLength: 3 }).map((v): PyValue => ({ t: "tuple", v })),
      fc.array(hashable, { maxLength: 3 }).map((v): PyValue => ({ t: "set", v: dedupe(v, k) })),
      fc.array(hashable, { maxLength: 3 }).map((v): PyValue => ({ t: "frozenset", v: dedupe(v, k) })),
      fc.array(fc.tuple(hashable, tie("v")), { maxLength: 3 }).map((pairs): PyValue => {
        const seen = new Set<string>();
        return { t: "dict", v: pairs.filter(([key]) => (seen.has(k(key)) ? false : (seen.add(k(key)), true))) };
      }),
    ),
  })).v;
}
