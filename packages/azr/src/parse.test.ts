import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadCorpus } from "./fixtures/corpus.ts";
import {
  checkFormat,
  extractAnswer,
  extractSolverCode,
  extractSolverField,
  parseInductionProposal,
  parseTripletProposal,
  primeResponse,
  scanFences,
} from "./parse.ts";

const corpus = loadCorpus();

function parseAs(kind: string, completion: string, count: number): unknown {
  const response = primeResponse(completion);
  switch (kind) {
    case "triplet":
      return parseTripletProposal(response);
    case "induction":
      return parseInductionProposal(response, count);
    case "solve-output":
    case "solve-input": {
      const format = checkFormat(response);
      const field = extractSolverField(extractAnswer(response), kind === "solve-input" ? "input" : "output");
      return { format, ...field };
    }
    case "solve-code":
      return { format: checkFormat(response), code: extractSolverCode(extractAnswer(response)) ?? null };
    default:
      throw new Error(`unknown corpus kind ${kind}`);
  }
}

describe("parser corpus", () => {
  it("has at least 60 records of every kind", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    for (const kind of ["triplet", "induction", "solve-output", "solve-input", "solve-code"]) {
      expect(corpus.filter((r) => r.kind === kind).length).toBeGreaterThan(3);
    }
    expect(new Set(corpus.map((r) => r.id)).size).toBe(corpus.length);
  });

  it.each(corpus.map((r) => [r.id, r] as const))("%s", (_id, record) => {
    expect(parseAs(record.kind, record.completion, record.count)).toEqual(record.expect);
  });
});

describe("format check", () => {
  it.each([
    ["<think>a</think><answer>b</answer>", true],
    ["<think>a</think> \n\t<answer>b</answer> trailing text is allowed", true],
    ["<think></think><answer></answer>", true],
    ["<think>a</think><answer>b", false],
    ["<think>a<answer>b</answer>", false],
    [" <think>a</think><answer>b</answer>", false],
    ["<think>a</think>x<answer>b</answer>", false],
    ["<think>a</think>x</think><answer>b</answer>", true],
    ["<think>a</think>\u00a0<answer>b</answer>", true],
    ["", false],
  ])("%j -> %s", (text, ok) => {
    expect(checkFormat(text)).toBe(ok);
  });

  it("agrees with the reference regex on random tag soup", () => {
    const re = /^<think>[\s\S]*?<\/think>\s*<answer>[\s\S]*?<\/answer>/;
    const piece = fc.constantFrom("<think>", "</think>", "<answer>", "</answer>", " ", "\n", "x", "<", ">", "/");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (parts) => {
        const text = parts.join("");
        expect(checkFormat(text)).toBe(re.test(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("answer extraction", () => {
  it("takes the text after the last <answer> up to the next </answer>, or to the end", () => {
    expect(extractAnswer("<answer>1</answer><answer>2</answer>")).toBe("2");
    expect(extractAnswer("<answer>1</answer><answer>2")).toBe("2");
    expect(extractAnswer("no tags")).toBe("");
  });
});

describe("fence scanning", () => {
  it("reads tags, bodies and one-line fences, and drops unclosed ones", () => {
    const fences = scanFences("```python\nx = 1\n```\n```input 3```\n```output\nopen");
    expect(fences.map((f) => [f.tag, f.body])).toEqual([
      ["python", "x = 1"],
      ["input", "3"],
    ]);
  });
});

describe("huge and adversarial inputs", () => {
  it("parses a 2 MB response in linear time", () => {
    const filler = "x = x + 1  # thinking\n".repeat(100_000);
    const completion = `${filler}</think>\n<answer>\n\`\`\`python\ndef f(x):\n    return x\n\`\`\`\n\`\`\`input\n1\n\`\`\`\n</answer>`;
    const t0 = performance.now();
    const r = parseTripletProposal(primeResponse(completion));
    // Generous bound: it only has to tell linear (milliseconds) from quadratic (minutes) under CI load.
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r).toEqual({ ok: true, code: "def f(x):\n    return x", input: "1" });
  });

  it("handles thousands of fences and tags without blowing up", () => {
    const many = "</think>".repeat(20_000) + "<answer>" + "```input\n1\n```\n".repeat(5000) + "```message\nm\n```</answer>";
    const r = parseInductionProposal(primeResponse(many), 10);
    expect(r).toEqual({ ok: true, inputs: new Array(10).fill("1"), message: "m" });
  });

  it("stays linear with many fences on one long line", () => {
    const line = "x```y".repeat(200_000);
    const t0 = performance.now();
    const fences = scanFences(line);
    parseTripletProposal(primeResponse(`</think><answer>${line}</answer>`));
    extractSolverField(line, "input");
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(fences).toHaveLength(100_000);
    expect(fences[0]).toEqual({ tag: "yx", body: "", start: 1 });
  });

  it("never throws on arbitrary text", () => {
    const tokenish = fc.constantFrom("<think>", "</think>", "<answer>", "</answer>", "```", "```python\n", "```input\n", "```message\n", "# Input:", "input(", ")", "\n", "<input>", "</input>", "the output is ");
    const text = fc.oneof(fc.string({ unit: "binary" }), fc.array(fc.oneof(tokenish, fc.string()), { maxLength: 40 }).map((a) => a.join("")));
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 12 }), (t, n) => {
        const response = primeResponse(t);
        parseTripletProposal(response);
        parseInductionProposal(response, n);
        const answer = extractAnswer(response);
        extractSolverField(answer, "input");
        extractSolverField(answer, "output");
        extractSolverCode(answer);
        scanFences(t);
      }),
      { numRuns: 3000 },
    );
  });
});
