import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { argsSource, parsePyJson, pySource } from "./pyjson.ts";

describe("parsePyJson", () => {
  it("keeps big integers exact and reads Python's NaN / Infinity", () => {
    expect(parsePyJson("123456789012345678901234567890")).toEqual({ t: "int", v: "123456789012345678901234567890" });
    expect(parsePyJson("[NaN, Infinity, -Infinity, 1.5, 2e3]")).toEqual({
      t: "list",
      v: [{ t: "float", v: "nan" }, { t: "float", v: "inf" }, { t: "float", v: "-inf" }, { t: "float", v: 1.5 }, { t: "float", v: 2000 }],
    });
    expect(parsePyJson('{"a": [true, null, "é\\n"], "a": 2}')).toEqual({ t: "dict", v: [[{ t: "str", v: "a" }, { t: "int", v: "2" }]] });
  });

  it.each(["", "[1,", "{1: 2}", "[1] x", "tru", '"open'])("refuses %j", (text) => {
    expect(() => parsePyJson(text)).toThrow();
  });

  it("renders Python source that CPython evaluates to json.loads of the same text", () => {
    const texts = ["[1, 2.5, \"a'b\\\"c\", null, true, {\"k\": [1, {}]}]", "[123456789012345678901234567890, -0.0, 1e-7, NaN, Infinity]", '["\\u00e9\\ud83d\\ude00", []]'];
    for (const text of texts) {
      const src = pySource(parsePyJson(text));
      const same = execFileSync("/usr/bin/python3", ["-c", "import json, math, sys\nsrc, text = sys.stdin.read().split('\\0')\na, b = eval(src), json.loads(text)\nprint(repr(a) == repr(b))"], { input: `${src}\0${text}`, encoding: "utf8" }).trim();
      expect(same, src).toBe("True");
    }
    expect(argsSource([{ t: "tuple", v: [{ t: "int", v: "1" }] }, { t: "complex", v: "1+2j" }, { t: "set", v: [] }])).toBe("(1,), complex('1+2j'), set()");
  });
});
