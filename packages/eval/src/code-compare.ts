import { parseArgs, pyEqual } from "@azr/azr";
import type { PyValue } from "@azr/protocol";

// Output comparison for code benchmarks, done here on the plain values the sandbox returned:
// EvalPlus's rules (exact `==`, else numpy.allclose with atol / 1e-6 for floats, and its special
// oracles), LiveCodeBench's functional (tuples read as lists) and stdout rules (stripped lines,
// then token-wise Decimal equality).

type Num = number;

function asNumber(v: PyValue): Num | undefined {
  if (v.t === "int") return Number(v.v);
  if (v.t === "bool") return v.v ? 1 : 0;
  if (v.t === "float") return v.v === "nan" ? NaN : v.v === "inf" ? Infinity : v.v === "-inf" ? -Infinity : v.v;
  return undefined;
}

/** EvalPlus's is_floats: a float, or a non-empty list/tuple of floats only. */
function isFloats(v: PyValue): boolean {
  if (v.t === "float") return true;
  if ((v.t === "list" || v.t === "tuple") && v.v.length > 0) return v.v.every((x) => x.t === "float");
  return false;
}

/** numpy.allclose(out, exp, rtol=1e-7, atol) for scalars and flat sequences of numbers. */
function allClose(out: PyValue, exp: PyValue, atol: number): boolean {
  const close = (a: Num, b: Num) => (Number.isNaN(a) || Number.isNaN(b) ? false : a === b || Math.abs(a - b) <= atol + 1e-7 * Math.abs(b));
  const a = asNumber(out);
  const b = asNumber(exp);
  if (a !== undefined && b !== undefined) return close(a, b);
  if ((out.t === "list" || out.t === "tuple") && (exp.t === "list" || exp.t === "tuple")) {
    if (out.v.length !== exp.v.length) return false;
    return out.v.every((x, i) => {
      const p = asNumber(x);
      const q = asNumber(exp.v[i]!);
      return p !== undefined && q !== undefined && close(p, q);
    });
  }
  return false;
}

const MBPP_SET_EQ = new Set(["similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly", "larg_nnum", "intersection_array", "find_dissimilar", "Diff"]);
const MBPP_NOT_NONE = new Set(["check_str", "text_match_three", "text_starta_endb"]);

function items(v: PyValue): PyValue[] | undefined {
  return v.t === "list" || v.t === "tuple" || v.t === "set" || v.t === "frozenset" ? v.v : v.t === "str" ? [...v.v].map((c) => ({ t: "str", v: c })) : undefined;
}

function sameSet(a: PyValue, b: PyValue): boolean {
  const x = items(a);
  const y = items(b);
  if (!x || !y) return false;
  return x.every((e) => y.some((f) => pyEqual(e, f))) && y.every((e) => x.some((f) => pyEqual(e, f)));
}

/** HumanEval/32's oracle: `find_zero` is right when the polynomial is ~0 at the returned x. */
function polyAtRoot(argsSource: string, out: PyValue, atol: number): boolean {
  const args = parseArgs(argsSource);
  const x = asNumber(out);
  if (!args.ok || x === undefined || args.args[0]?.t !== "list") return false;
  let sum = 0;
  args.args[0].v.forEach((c, i) => {
    sum += (asNumber(c) ?? NaN) * Math.pow(x, i);
  });
  return Math.abs(sum) <= atol;
}

export interface EvalPlusContext {
  dataset: "humaneval" | "mbpp";
  entryPoint: string;
  atol: number;
  /** The test's argument source (for oracles that look at the input). */
  args: string;
}

/** EvalPlus's verdict on one output (evalplus/eval/__init__.py unsafe_execute). */
export function evalplusEqual(out: PyValue, exp: PyValue, ctx: EvalPlusContext): boolean {
  let exact = pyEqual(out, exp);
  if (ctx.dataset === "mbpp") {
    if (ctx.entryPoint === "are_equivalent") exact = true;
    else if (ctx.entryPoint === "sum_div") exact = exact || pyEqual(out, { t: "int", v: "0" });
    else if (MBPP_SET_EQ.has(ctx.entryPoint)) exact = sameSet(out, exp);
    else if (MBPP_NOT_NONE.has(ctx.entryPoint)) exact = out.t === "bool" ? pyEqual(out, exp) : pyEqual(exp, { t: "bool", v: out.t !== "none" });
  }
  if (ctx.dataset === "humaneval" && ctx.entryPoint === "find_zero") return polyAtRoot(ctx.args, out, ctx.atol);
  const atol = ctx.atol === 0 && isFloats(exp) ? 1e-6 : ctx.atol;
  if (!exact && atol !== 0) {
    if (out.t !== exp.t) return false;
    return allClose(out, exp, atol);
  }
  return exact;
}

/** LiveCodeBench functional tests: a returned tuple counts as a list; then Python `==`. */
export function functionalEqual(out: PyValue, exp: PyValue): boolean {
  return pyEqual(out.t === "tuple" ? { t: "list", v: out.v } : out, exp);
}

type Dec = { kind: "nan" } | { kind: "inf"; neg: boolean } | { kind: "finite"; neg: boolean; digits: string; exp: number };

/** Python's Decimal(text), reduced to a canonical form (so 1.0 == 1 == 1e0), or undefined. */
function parseDecimal(text: string): Dec | undefined {
  const s = text.trim();
  const special = /^([+-]?)(inf|infinity|nan|snan)$/i.exec(s);
  if (special) return /nan/i.test(special[2]!) ? { kind: "nan" } : { kind: "inf", neg: special[1] === "-" };
  const m = /^([+-]?)(\d(?:_?\d)*)?(?:\.(\d(?:_?\d)*)?)?(?:[eE]([+-]?\d(?:_?\d)*))?$/.exec(s);
  if (!m || (m[2] === undefined && m[3] === undefined)) return undefined;
  const int = (m[2] ?? "").replace(/_/g, "");
  const frac = (m[3] ?? "").replace(/_/g, "");
  let digits = (int + frac).replace(/^0+/, "");
  let exp = Number((m[4] ?? "0").replace(/_/g, "")) - frac.length;
  if (digits === "") return { kind: "finite", neg: false, digits: "0", exp: 0 };
  const trailing = /0*$/.exec(digits)![0].length;
  digits = digits.slice(0, digits.length - trailing);
  exp += trailing;
  return { kind: "finite", neg: m[1] === "-", digits, exp };
}

function decimalEqual(a: Dec, b: Dec): boolean {
  if (a.kind === "nan" || b.kind === "nan") return false;
  if (a.kind === "inf" || b.kind === "inf") return a.kind === b.kind && a.neg === (b as { neg: boolean }).neg;
  return a.neg === (b as { neg: boolean }).neg && a.digits === (b as { digits: string }).digits && a.exp === (b as { exp: number }).exp;
}

function strippedLines(text: string): string[] {
  return text.trim().split("\n").map((l) => l.trim());
}

/** LiveCodeBench's stdout check (grade_stdio): same number of stripped lines, each equal as text
 * or as whitespace-separated Decimals. Returns undefined when equal, else why not. */
export function stdioMismatch(got: string, expected: string): string | undefined {
  const a = strippedLines(got);
  const b = strippedLines(expected);
  if (a.length !== b.length) return `wrong answer: ${a.length} output lines, expected ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const x = a[i]!.split(/\s+/).filter(Boolean).map(parseDecimal);
    const y = b[i]!.split(/\s+/).filter(Boolean).map(parseDecimal);
    const ok = x.length === y.length && x.every((d, j) => d !== undefined && y[j] !== undefined && decimalEqual(d, y[j]!));
    if (!ok) return `wrong answer at line ${i + 1}: ${JSON.stringify(a[i]!.slice(0, 100))} != ${JSON.stringify(b[i]!.slice(0, 100))}`;
  }
  return undefined;
}
