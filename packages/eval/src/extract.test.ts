import { describe, expect, it } from "vitest";
import { extractMathAnswer, extractProgram, lastBoxed } from "./extract.ts";
import { latexToSympy, normalizeAnswer, numericValue } from "./math-normalize.ts";

describe("lastBoxed", () => {
  it.each([
    ["so \\boxed{1} then \\boxed{2}", "2"],
    ["\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt{3}}{2}"],
    ["\\boxed{\\{1, 2\\}}", "\\{1, 2\\}"],
    ["$\\boxed 5$", "5"],
    ["\\fbox{x+1}", "x+1"],
    ["\\boxed {7}", "7"],
    ["cut off \\boxed{\\frac{3}{4", undefined],
    ["no box", undefined],
  ])("%s", (text, want) => {
    expect(lastBoxed(text)).toBe(want);
  });
});

describe("extractMathAnswer", () => {
  it("prefers the answer tag (and a \\boxed{} inside it), then the last \\boxed{}, else a format failure", () => {
    expect(extractMathAnswer("x</think><answer>\\boxed{3}</answer>")).toEqual({ ok: true, text: "3", source: "answer-tag-boxed" });
    expect(extractMathAnswer("x</think><answer> 3 </answer>")).toEqual({ ok: true, text: "3", source: "answer-tag" });
    expect(extractMathAnswer("\\boxed{1} and finally \\boxed{2}")).toEqual({ ok: true, text: "2", source: "boxed" });
    expect(extractMathAnswer("the answer is 2")).toEqual({ ok: false, reason: "format" });
    expect(extractMathAnswer("<answer></answer>")).toEqual({ ok: false, reason: "format" });
  });
});

describe("extractProgram", () => {
  it("takes the last python fence of the answer, else the last bare fence, else bare code in the tag", () => {
    const two = "x</think><answer>```python\ndef a(): pass\n```\n```python\ndef b(): pass\n```</answer>";
    expect(extractProgram(two)).toEqual({ ok: true, program: "def b(): pass", source: "fence" });
    expect(extractProgram("```\nprint(1)\n```")).toEqual({ ok: true, program: "print(1)", source: "fence" });
    expect(extractProgram("```text\nhello\n```\n```py\nx = 1\n```")).toMatchObject({ program: "x = 1" });
    // Code in the reasoning does not count when the answer has its own.
    expect(extractProgram("```python\nwrong\n```</think><answer>```python\nright\n```</answer>")).toMatchObject({ program: "right" });
    expect(extractProgram("t</think><answer>def f(x):\n    return x</answer>")).toEqual({ ok: true, program: "def f(x):\n    return x", source: "answer-tag" });
    expect(extractProgram("t</think><answer>It returns x.</answer>")).toEqual({ ok: false, reason: "no-code" });
  });
});

describe("normalizeAnswer", () => {
  it.each([
    ["\\dfrac{3}{4}", "\\frac{3}{4}"],
    ["$\\left( 1, 2 \\right)$", "(1,2)"],
    ["50\\%", "50"],
    ["90^\\circ", "90"],
    ["5 \\text{ cm}", "5"],
    ["12 inches", "12"],
    ["\\text{Evelyn}", "Evelyn"],
    ["x = 5", "5"],
    ["1,000,000", "1000000"],
    ["12.0", "12"],
    [".5", "0.5"],
    ["\\frac12", "\\frac{1}{2}"],
    ["\u22123", "-3"],
    ["√2", "\\sqrt{2}"],
    ["\\sqrt3", "\\sqrt{3}"],
    ["5.", "5"],
  ])("%s → %s", (raw, want) => {
    expect(normalizeAnswer(raw)).toBe(want);
  });

  it("reads plain numbers and writes sympy-parsable text", () => {
    expect(numericValue("\\frac{1}{2}")).toBe(0.5);
    expect(numericValue("-\\frac{3}{4}")).toBe(-0.75);
    expect(numericValue("3/8")).toBe(0.375);
    expect(numericValue("1e-3")).toBe(0.001);
    expect(numericValue("x")).toBeUndefined();
    expect(latexToSympy("\\frac{\\sqrt{3}}{2}")).toBe("((sqrt(3))/(2))");
    expect(latexToSympy("2\\pi r^{2}")).toBe("2pi r**(2)");
    expect(latexToSympy("\\sqrt[3]{x}")).toBe("((x)**(1/(3)))");
  });
});
