import { spawnSync } from "node:child_process";
import type { PyValue } from "@azr/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashKey, pyEqual } from "./pyequal.ts";
import { parseLiteral } from "./pyliteral.ts";
import { pyRepr } from "./pyrepr.ts";
import { anyValue, literalValue } from "./pyvalue.arbitrary.ts";

// Cross-checks against a real CPython: the literal parser against `ast.literal_eval`, the repr
// printer against `repr`, and equality against `==`. Skipped (visibly) where no python3 exists.

const PYTHON = process.env.AZR_PYTHON ?? "python3";
const probe = spawnSync(PYTHON, ["-c", "import sys; print(sys.version_info >= (3, 9))"], { encoding: "utf8" });
const hasPython = probe.status === 0 && probe.stdout.trim() === "True";

const HELPER = String.raw`
import ast, base64, json, math, sys, warnings
warnings.simplefilter("ignore")

def enc(v):
    if v is None: return {"t": "none"}
    if isinstance(v, bool): return {"t": "bool", "v": v}
    if isinstance(v, int): return {"t": "int", "v": str(v)}
    if isinstance(v, float):
        if math.isnan(v): return {"t": "float", "v": "nan"}
        if math.isinf(v): return {"t": "float", "v": "inf" if v > 0 else "-inf"}
        return {"t": "float", "v": v}
    if isinstance(v, str): return {"t": "str", "v": v}
    if isinstance(v, bytes): return {"t": "bytes", "v": base64.b64encode(v).decode()}
    if isinstance(v, tuple): return {"t": "tuple", "v": [enc(x) for x in v]}
    if isinstance(v, list): return {"t": "list", "v": [enc(x) for x in v]}
    if isinstance(v, frozenset): return {"t": "frozenset", "v": [enc(x) for x in v]}
    if isinstance(v, set): return {"t": "set", "v": [enc(x) for x in v]}
    if isinstance(v, dict): return {"t": "dict", "v": [[enc(k), enc(x)] for k, x in v.items()]}
    raise TypeError("unsupported " + type(v).__name__)

job = json.load(sys.stdin)
out = []
if job["mode"] == "literal":
    for text in job["items"]:
        try:
            v = ast.literal_eval(text)
            out.append({"ok": True, "value": enc(v), "repr": repr(v)})
        except Exception as e:
            out.append({"ok": False, "error": type(e).__name__})
else:
    env = {"__builtins__": {"float": float, "frozenset": frozenset, "set": set}}
    for a, b in job["items"]:
        out.append(eval(a, env) == eval(b, env))
json.dump(out, sys.stdout)
`;

function python<T>(mode: "literal" | "equal", items: unknown[]): T[] {
  const r = spawnSync(PYTHON, ["-c", HELPER], { input: JSON.stringify({ mode, items }), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T[];
}

type LiteralOutcome = { ok: true; value: PyValue; repr: string } | { ok: false; error: string };

function hasSet(v: PyValue): boolean {
  switch (v.t) {
    case "set":
    case "frozenset":
      return true;
    case "tuple":
    case "list":
      return v.v.some(hasSet);
    case "dict":
      return v.v.some(([k, x]) => hasSet(k) || hasSet(x));
    default:
      return false;
  }
}

/** A Python expression for any value (nan/inf have no literal). */
function expr(v: PyValue): string {
  switch (v.t) {
    case "float":
      return typeof v.v === "string" ? `float('${v.v}')` : pyRepr(v);
    case "tuple":
      return v.v.length === 1 ? `(${expr(v.v[0]!)},)` : `(${v.v.map(expr).join(", ")})`;
    case "list":
      return `[${v.v.map(expr).join(", ")}]`;
    case "set":
      return v.v.length === 0 ? "set()" : `{${v.v.map(expr).join(", ")}}`;
    case "frozenset":
      return `frozenset([${v.v.map(expr).join(", ")}])`;
    case "dict":
      return `{${v.v.map(([k, x]) => `${expr(k)}: ${expr(x)}`).join(", ")}}`;
    default:
      return pyRepr(v);
  }
}

describe.skipIf(!hasPython)(`against CPython (${PYTHON})`, { timeout: 60_000 }, () => {
  it("repr matches Python's and ast.literal_eval reads it back as an equal value", () => {
    const values = fc.sample(literalValue(hashKey), { numRuns: 600, seed: 42 });
    const results = python<LiteralOutcome>(
      "literal",
      values.map((v) => pyRepr(v)),
    );
    values.forEach((v, i) => {
      const r = results[i]!;
      expect(r.ok, pyRepr(v)).toBe(true);
      if (!r.ok) return;
      expect(pyEqual(r.value, v), pyRepr(v)).toBe(true);
      // Astral-plane characters assigned in newer Unicode versions than this Python knows print
      // differently (Python escapes unassigned code points); the executor's Python is the truth
      // there, and the value itself still round-trips (checked above).
      if (!hasSet(v) && !/[\u{10000}-\u{10ffff}]/u.test(pyRepr(v))) expect(r.repr).toBe(pyRepr(v));
    });
  });

  it("the literal parser accepts and rejects what ast.literal_eval does, with equal values", () => {
    const piece = fc.constantFrom(
      "[", "]", "(", ")", "{", "}", ",", ", ", ":", "'", '"', "'''", "\\", "\\n", "\\x4", "\\x41", "\\u00e9", "\\777",
      "-", "+", "1", "0", "7", "09", "0x", "0o", "0b1", "e", "E-", ".", "_", "j", "b'", "r'", "rb'", "u'", "f'",
      "set()", "set", "None", "True", "False", " ", "\t", "\n", "#c\n", "x", "é",
    );
    const texts = fc.sample(fc.array(piece, { minLength: 1, maxLength: 14 }).map((a) => a.join("")), { numRuns: 4000, seed: 7 });
    const extra = ["1,\n2", "\n1\n", "-True", "- 1", "(-1)", "-(1)", "1 # c", "{1: 2, 1.0: 3}", "{True, 1}", "b'\\x00' b'a'", "'a' 'b'", "0_0", "0_1", "1__0", "1e5j", "[1, 2,]", "(,)", "{,}", "1 if 1 else 2"];
    const all = [...texts, ...extra];
    const results = python<LiteralOutcome>("literal", all);
    let accepted = 0;
    all.forEach((text, i) => {
      const py = results[i]!;
      const ours = parseLiteral(text);
      // Complex numbers are outside the executor's value types: Python accepts them, we refuse.
      const pyComplex = !py.ok && py.error === "TypeError" && /j/i.test(text);
      if (pyComplex) return;
      expect(ours.ok, `${JSON.stringify(text)} python=${JSON.stringify(py)} ours=${JSON.stringify(ours)}`).toBe(py.ok);
      if (py.ok && ours.ok) {
        accepted++;
        expect(pyEqual(ours.value, py.value), JSON.stringify(text)).toBe(true);
        expect(hasSet(py.value) ? true : pyRepr(ours.value) === py.repr, JSON.stringify(text)).toBe(true);
      }
    });
    expect(accepted).toBeGreaterThan(100);
  });

  it("value equality agrees with Python's == on random pairs and near-misses", () => {
    const gen = anyValue(hashKey);
    const pairs = fc.sample(fc.tuple(gen, gen), { numRuns: 1500, seed: 3 });
    // Near-misses: a value against a numerically or structurally close variant.
    const near = fc.sample(literalValue(hashKey), { numRuns: 500, seed: 4 }).map((v): [PyValue, PyValue] => [v, JSON.parse(JSON.stringify(v).replace(/"t":"int","v":"(-?\d+)"/, '"t":"float","v":$1'))]);
    const all = [...pairs, ...near];
    const results = python<boolean>(
      "equal",
      all.map(([a, b]) => [expr(a), expr(b)]),
    );
    all.forEach(([a, b], i) => {
      expect(pyEqual(a, b), `${expr(a)} == ${expr(b)}`).toBe(results[i]);
    });
  });
});
