import { describe, expect, it } from "vitest";
import { applyDefRule, collectImports, renameCalls } from "./code.ts";

describe("def rule", () => {
  const nested = "def solve(x):\n    def helper(y):\n        return y * 2\n    return helper(x)";
  const twoTop = "def helper(y):\n    return y + 1\n\ndef main(x):\n    return helper(x)";
  const withF = "def helper(y):\n    return y + 1\n\ndef f(x):\n    return helper(x)";
  const method = "class A:\n    def get(self):\n        return 1\n\ndef f(x):\n    return A().get() + x";

  it("single-def (reference): exactly one def line anywhere, renamed to f", () => {
    expect(applyDefRule("def g(x):\n    return g(x - 1) if x else 0", "single-def")).toEqual({
      ok: true,
      program: "def f(x):\n    return f(x - 1) if x else 0",
      renamedFrom: "g",
    });
    expect(applyDefRule("def f(x):\n    return x", "single-def")).toEqual({ ok: true, program: "def f(x):\n    return x" });
    expect(applyDefRule(nested, "single-def")).toEqual({ ok: false, reason: "multiple-functions" });
    expect(applyDefRule(twoTop, "single-def")).toEqual({ ok: false, reason: "multiple-functions" });
    expect(applyDefRule(method, "single-def")).toEqual({ ok: false, reason: "multiple-functions" });
    expect(applyDefRule("x = 1\nprint(x)", "single-def")).toEqual({ ok: false, reason: "no-function" });
    expect(applyDefRule("lambda x: x", "single-def")).toEqual({ ok: false, reason: "no-function" });
  });

  it("top-level-f: the top-level f, else the only top-level function; helpers allowed", () => {
    expect(applyDefRule(nested, "top-level-f")).toEqual({
      ok: true,
      program: "def f(x):\n    def helper(y):\n        return y * 2\n    return helper(x)",
      renamedFrom: "solve",
    });
    expect(applyDefRule(withF, "top-level-f")).toEqual({ ok: true, program: withF });
    expect(applyDefRule(method, "top-level-f")).toEqual({ ok: true, program: method });
    expect(applyDefRule(twoTop, "top-level-f")).toEqual({ ok: false, reason: "ambiguous-entry" });
    expect(applyDefRule("class A:\n    def f(self):\n        return 1", "top-level-f")).toEqual({ ok: false, reason: "no-function" });
  });

  it("renames call sites but not attribute calls or longer names", () => {
    expect(renameCalls("def go(n):\n    return go (n-1) + obj.go(n) + ago(n) + go_on(n)", "go", "f")).toBe(
      "def f(n):\n    return f (n-1) + obj.go(n) + ago(n) + go_on(n)",
    );
  });

  it("handles unicode identifiers", () => {
    expect(applyDefRule("def función(x):\n    return función(x)", "single-def")).toEqual({
      ok: true,
      program: "def f(x):\n    return f(x)",
      renamedFrom: "función",
    });
  });
});

describe("imports", () => {
  it("collects top-level import lines", () => {
    const code = "import math\nfrom collections import deque, Counter\n  import os\nimportant = 1\ndef f(x):\n    import re\n    return x";
    expect(collectImports(code)).toEqual(["import math", "from collections import deque, Counter"]);
  });
});
