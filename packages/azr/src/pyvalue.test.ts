import type { PyValue } from "@azr/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashKey, pyEqual } from "./pyequal.ts";
import { parseArgs, parseLiteral } from "./pyliteral.ts";
import { floatRepr, isLiteralValue, pyRepr, strRepr } from "./pyrepr.ts";
import { anyValue, literalValue } from "./pyvalue.arbitrary.ts";

const int = (v: number | string): PyValue => ({ t: "int", v: String(v) });
const float = (v: number | "nan" | "inf" | "-inf"): PyValue => ({ t: "float", v });
const str = (v: string): PyValue => ({ t: "str", v });
const bool = (v: boolean): PyValue => ({ t: "bool", v });
const none: PyValue = { t: "none" };
const tuple = (...v: PyValue[]): PyValue => ({ t: "tuple", v });
const list = (...v: PyValue[]): PyValue => ({ t: "list", v });
const set = (...v: PyValue[]): PyValue => ({ t: "set", v });
const frozenset = (...v: PyValue[]): PyValue => ({ t: "frozenset", v });
const dict = (...v: [PyValue, PyValue][]): PyValue => ({ t: "dict", v });
const bytes = (s: string): PyValue => ({ t: "bytes", v: Buffer.from(s, "latin1").toString("base64") });

function lit(text: string): PyValue {
  const r = parseLiteral(text);
  if (!r.ok) throw new Error(`${text}: ${r.error}`);
  return r.value;
}

describe("Python equality table", () => {
  // [a, b, Python's a == b]; checked against CPython 3.11 by hand.
  const table: [string, PyValue, PyValue, boolean][] = [
    ["1 == 1.0", int(1), float(1), true],
    ["1 == True", int(1), bool(true), true],
    ["1.0 == True", float(1), bool(true), true],
    ["0 == False", int(0), bool(false), true],
    ["0.0 == -0.0", float(0), float(-0), true],
    ["2 == True", int(2), bool(true), false],
    ["2**53+1 != float(2**53)", int("9007199254740993"), float(9007199254740992), false],
    ["2**53 == float(2**53)", int("9007199254740992"), float(9007199254740992), true],
    ["10**30 == 1e30 is False", int("1" + "0".repeat(30)), float(1e30), false],
    ["0.1 + 0.2 != 0.3", float(0.1 + 0.2), float(0.3), false],
    ["nan != nan", float("nan"), float("nan"), false],
    ["[nan] != [nan] (distinct objects)", list(float("nan")), list(float("nan")), false],
    ["inf == inf", float("inf"), float("inf"), true],
    ["inf != -inf", float("inf"), float("-inf"), false],
    ["inf != huge int", float("inf"), int("1" + "0".repeat(400)), false],
    ["'1' != 1", str("1"), int(1), false],
    ["'a' != b'a'", str("a"), bytes("a"), false],
    ["b'a' == b'a'", bytes("a"), bytes("a"), true],
    ["None == None", none, none, true],
    ["None != 0", none, int(0), false],
    ["None != False", none, bool(false), false],
    ["(1, 2) != [1, 2]", tuple(int(1), int(2)), list(int(1), int(2)), false],
    ["(1, 2) == (1.0, True+1)", tuple(int(1), int(2)), tuple(float(1), int(2)), true],
    ["[] != ()", list(), tuple(), false],
    ["[1, 2] != [2, 1]", list(int(1), int(2)), list(int(2), int(1)), false],
    ["[1, [2]] == [1.0, [2.0]]", list(int(1), list(int(2))), list(float(1), list(float(2))), true],
    ["{1, 2} == {2, 1}", set(int(1), int(2)), set(int(2), int(1)), true],
    ["{1, 2} == frozenset({2, 1})", set(int(1), int(2)), frozenset(int(2), int(1)), true],
    ["{1} != {1, 2}", set(int(1)), set(int(1), int(2)), false],
    ["set() != {}", set(), dict(), false],
    ["{1} == {1.0}", set(int(1)), set(float(1)), true],
    ["{(1, 2)} != {[1, 2]}-like tuple vs str", set(tuple(int(1), int(2))), set(str("(1, 2)")), false],
    ["{'a': 1, 'b': 2} == {'b': 2, 'a': 1}", dict([str("a"), int(1)], [str("b"), int(2)]), dict([str("b"), int(2)], [str("a"), int(1)]), true],
    ["{'a': 1} != {'a': 2}", dict([str("a"), int(1)]), dict([str("a"), int(2)]), false],
    ["{1: 'x'} == {1.0: 'x'}", dict([int(1), str("x")]), dict([float(1), str("x")]), true],
    ["{1: 'x'} == {True: 'x'}", dict([int(1), str("x")]), dict([bool(true), str("x")]), true],
    ["{(1, 2): 0} != {(2, 1): 0}", dict([tuple(int(1), int(2)), int(0)]), dict([tuple(int(2), int(1)), int(0)]), false],
    ["{'a': 1} != {'a': 1, 'b': 2}", dict([str("a"), int(1)]), dict([str("a"), int(1)], [str("b"), int(2)]), false],
    ["{} == {}", dict(), dict(), true],
    ["'é' == 'é'", str("é"), str("é"), true],
    ["'e\\u0301' != 'é' (no normalisation)", str("e\u0301"), str("é"), false],
  ];

  it.each(table)("%s", (_name, a, b, expected) => {
    expect(pyEqual(a, b)).toBe(expected);
    expect(pyEqual(b, a)).toBe(expected);
  });

  it("stays symmetric for malformed sets with repeated elements", () => {
    const repeated = set(tuple(), tuple());
    const other = frozenset(int(0), tuple());
    expect(pyEqual(repeated, other)).toBe(false);
    expect(pyEqual(other, repeated)).toBe(false);
  });

  it("large sets and dicts compare order-free through the hash buckets", () => {
    const xs = Array.from({ length: 200 }, (_, i) => int(i));
    expect(pyEqual(set(...xs), set(...xs.slice().reverse()))).toBe(true);
    expect(pyEqual(set(...xs), set(...xs.slice(1), int(999)))).toBe(false);
    const entries = xs.map((x, i): [PyValue, PyValue] => [x, str(String(i))]);
    expect(pyEqual(dict(...entries), dict(...entries.slice().reverse()))).toBe(true);
  });

  it("is symmetric and reflexive (nan aside)", () => {
    fc.assert(
      fc.property(anyValue(hashKey), anyValue(hashKey), (a, b) => {
        expect(pyEqual(a, b)).toBe(pyEqual(b, a));
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(literalValue(hashKey), (a) => {
        expect(pyEqual(a, a)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("gives equal hashable values equal hash keys", () => {
    fc.assert(
      fc.property(anyValue(hashKey), anyValue(hashKey), (a, b) => {
        const ha = hashKey(a);
        const hb = hashKey(b);
        if (ha !== null && hb !== null && pyEqual(a, b)) expect(ha).toBe(hb);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("literal parser", () => {
  const table: [string, PyValue][] = [
    ["None", none],
    ["True", bool(true)],
    ["42", int(42)],
    ["-42", int(-42)],
    ["- 7", int(-7)],
    ["-(7)", int(-7)],
    ["+5", int(5)],
    ["0", int(0)],
    ["00", int(0)],
    ["1_000_000", int(1000000)],
    ["0x_ff", int(255)],
    ["0o777", int(511)],
    ["0B1010", int(10)],
    ["123456789012345678901234567890", int("123456789012345678901234567890")],
    ["1.5", float(1.5)],
    [".5", float(0.5)],
    ["5.", float(5)],
    ["1e3", float(1000)],
    ["1E-3", float(0.001)],
    ["-0.0", float(-0)],
    ["1e400", float("inf")],
    ["-1e400", float("-inf")],
    ["'a'", str("a")],
    ['"a"', str("a")],
    ["'''a\nb'''", str("a\nb")],
    ['"""q"q"""', str('q"q')],
    ["'a' \"b\" 'c'", str("abc")],
    ["'tab\\tnew\\nline'", str("tab\tnew\nline")],
    ["'\\x41\\101\\u0042\\U00000043'", str("AABC")],
    ["'\\q'", str("\\q")],
    ["'line\\\ncontinued'", str("linecontinued")],
    ["r'\\n'", str("\\n")],
    ["R'\\''", str("\\'")],
    ["u'x'", str("x")],
    ["'😀'", str("😀")],
    ["b'ab\\x00'", bytes("ab\x00")],
    ["rb'\\x00'", bytes("\\x00")],
    ["b'\\u1234'", bytes("\\u1234")],
    ["()", tuple()],
    ["(1)", int(1)],
    ["(1,)", tuple(int(1))],
    ["((1, 2),)", tuple(tuple(int(1), int(2)))],
    ["1, 2", tuple(int(1), int(2))],
    ["1,", tuple(int(1))],
    ["[]", list()],
    ["[1, [2, [3]], ]", list(int(1), list(int(2), list(int(3))))],
    ["{}", dict()],
    ["{'a': 1, 'b': [2]}", dict([str("a"), int(1)], [str("b"), list(int(2))])],
    ["{1: 'a', 1.0: 'b', True: 'c'}", dict([int(1), str("c")])],
    ["{(1, 2): 'p'}", dict([tuple(int(1), int(2)), str("p")])],
    ["{1, 2, 1}", set(int(1), int(2))],
    ["{True, 1}", set(bool(true))],
    ["set()", set()],
    ["set( )", set()],
    ["[1, # comment\n 2]", list(int(1), int(2))],
    ["  [ 1 ,\n\t2 ]  ", list(int(1), int(2))],
    ["\n1\n\n", int(1)],
    ["# note\n1 # trailing", int(1)],
    ["(1,\n2)", tuple(int(1), int(2))],
    ["1,\n", tuple(int(1))],
    ["1 \\\n, 2", tuple(int(1), int(2))],
  ];
  it.each(table)("%j", (text, value) => {
    const r = parseLiteral(text);
    expect(r).toEqual({ ok: true, value });
  });

  const errors: [string, RegExp][] = [
    ["", /expected a value/],
    ["x", /name 'x' is not a literal/],
    ["f(1)", /name 'f'/],
    ["1 + 2", /operator '\+'/],
    ["--1", /unary '-' only applies to a number/],
    ["-True", /unary/],
    ["-'a'", /unary/],
    ["1j", /complex/],
    ["01", /leading zeros/],
    ["1_", /invalid number/],
    ["0x", /invalid number/],
    ["1.2.3", /invalid number/],
    ["'abc", /unterminated/],
    ["'a\nb'", /unterminated string literal \(newline\)/],
    ["'''abc", /unterminated triple-quoted/],
    ["f'{x}'", /f-strings/],
    ["'\\N{BULLET}'", /\\N/],
    ["'\\x4'", /truncated \\xXX/],
    ["'\\u12'", /truncated \\u/],
    ["b'é'", /ASCII/],
    ["'a' b'b'", /mix bytes/],
    ["[1, 2", /unclosed '\['/],
    ["(1, 2", /unclosed '\('/],
    ["{1: 2", /unclosed '\{'/],
    ["{[1]: 2}", /unhashable type: 'list'/],
    ["{{1}}", /unhashable type: 'set'/],
    ["{(1, [2]): 0}", /unhashable type: 'tuple'/],
    ["{1: 2, 3}", /expected ':'/],
    ["[1 2]", /expected ',' or '\]'/],
    ["1 2", /unexpected '2'/],
    ["a=1", /name 'a'/],
    ["[*a]", /unexpected '\*'/],
    ["set([1])", /unexpected 'set'|not a literal|unexpected/],
    ["[".repeat(300) + "]".repeat(300), /too deeply nested/],
    ["1,\n2", /newline outside brackets/],
    ["-\n1", /newline outside brackets/],
    ["1\n2", /unexpected '2'/],
  ];
  it.each(errors)("rejects %j", (text, message) => {
    const r = parseLiteral(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });

  it("parses argument lists like the inside of a call", () => {
    expect(parseArgs("'John', {'age': 20}")).toEqual({ ok: true, args: [str("John"), dict([str("age"), int(20)])] });
    expect(parseArgs("(1, 2)")).toEqual({ ok: true, args: [tuple(int(1), int(2))] });
    expect(parseArgs("1, 2,")).toEqual({ ok: true, args: [int(1), int(2)] });
    expect(parseArgs("")).toEqual({ ok: true, args: [] });
    expect(parseArgs("x=1")).toMatchObject({ ok: false });
    expect(parseArgs("1, , 2")).toMatchObject({ ok: false });
    expect(parseArgs("dict(a=1)")).toMatchObject({ ok: false, error: "name 'dict' is not a literal" });
  });

  it("never throws on arbitrary text", () => {
    const piece = fc.constantFrom("[", "]", "(", ")", "{", "}", ",", ":", "'", '"', "'''", "\\", "-", "1", "0x", "e", ".", "b'", "r'", "set()", "None", " ", "\n", "#", "j", "_");
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary" }), fc.array(piece, { maxLength: 40 }).map((a) => a.join(""))), (text) => {
        parseLiteral(text);
        parseArgs(text);
      }),
      { numRuns: 5000 },
    );
  });

  it("reads back every literal value from its repr", () => {
    fc.assert(
      fc.property(literalValue(hashKey), (v) => {
        const r = parseLiteral(pyRepr(v));
        expect(r.ok).toBe(true);
        if (r.ok) expect(pyEqual(r.value, v)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("repr", () => {
  // Expected strings are CPython 3.11's repr() of the same values.
  const floats: [number | "nan" | "inf" | "-inf", string][] = [
    [1, "1.0"],
    [-1.5, "-1.5"],
    [0, "0.0"],
    [-0, "-0.0"],
    [0.1, "0.1"],
    [0.1 + 0.2, "0.30000000000000004"],
    [1e16, "1e+16"],
    [1234567890123456.0, "1234567890123456.0"],
    [1.2345678901234568e16, "1.2345678901234568e+16"],
    [1e-4, "0.0001"],
    [1e-5, "1e-05"],
    [1.5e-7, "1.5e-07"],
    [123.456, "123.456"],
    [1e22, "1e+22"],
    [5e-324, "5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [2.5e15, "2500000000000000.0"],
    ["nan", "nan"],
    ["inf", "inf"],
    ["-inf", "-inf"],
  ];
  it.each(floats)("float %s", (x, text) => {
    expect(floatRepr(x)).toBe(text);
  });

  const strings: [string, string][] = [
    ["abc", "'abc'"],
    ["it's", `"it's"`],
    [`say "hi"`, `'say "hi"'`],
    [`both ' and "`, `'both \\' and "'`],
    ["back\\slash", "'back\\\\slash'"],
    ["tab\tnl\ncr\r", "'tab\\tnl\\ncr\\r'"],
    ["\x00\x7f\x85\xa0", "'\\x00\\x7f\\x85\\xa0'"],
    ["é漢😀", "'é漢😀'"],
    ["\u200b\u2028\ufeff", "'\\u200b\\u2028\\ufeff'"],
    ["\u{e0001}", "'\\U000e0001'"],
    ["\ud800", "'\\ud800'"],
    ["", "''"],
  ];
  it.each(strings)("str %j", (s, text) => {
    expect(strRepr(s)).toBe(text);
  });

  it("containers", () => {
    expect(pyRepr(tuple())).toBe("()");
    expect(pyRepr(tuple(int(1)))).toBe("(1,)");
    expect(pyRepr(tuple(int(1), str("a")))).toBe("(1, 'a')");
    expect(pyRepr(list(none, bool(false), float(2)))).toBe("[None, False, 2.0]");
    expect(pyRepr(set())).toBe("set()");
    expect(pyRepr(set(int(3), int(1)))).toBe("{3, 1}");
    expect(pyRepr(frozenset())).toBe("frozenset()");
    expect(pyRepr(frozenset(int(1)))).toBe("frozenset({1})");
    expect(pyRepr(dict([str("a"), list()], [tuple(int(1), int(2)), dict()]))).toBe("{'a': [], (1, 2): {}}");
    expect(pyRepr(bytes("a'b\"\x00\xff\t"))).toBe("b'a\\'b\"\\x00\\xff\\t'");
    expect(pyRepr(bytes("it's"))).toBe(`b"it's"`);
    expect(pyRepr(int("-0"))).toBe("0");
  });

  it("knows which values have literal reprs", () => {
    expect(isLiteralValue(list(int(1), dict([str("a"), set(float(0.5))])))).toBe(true);
    expect(isLiteralValue(list(float("nan")))).toBe(false);
    expect(isLiteralValue(dict([str("a"), float("inf")]))).toBe(false);
    expect(isLiteralValue(frozenset(int(1)))).toBe(false);
  });

  it("round-trips through the parser for literal reprs", () => {
    expect(lit(pyRepr(lit("{'k': (1, 2.5, 'x\\ny', b'\\x00', None, {1, 2}, [])}")))).toEqual(lit("{'k': (1, 2.5, 'x\\ny', b'\\x00', None, {1, 2}, [])}"));
  });
});
