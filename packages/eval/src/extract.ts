import { extractAnswer, scanFences } from "@azr/azr";

// Reading a model's final answer out of its completion. The think/answer parsing is packages/azr's
// (the same functions the training judge uses); what is added here is what benchmarks need:
// \boxed{} answers with nested braces and programs in the answer's code fences.

/** The body of the last `\boxed{...}` (or `\fbox{...}`) with balanced braces, or of a
 * `\boxed 5`-style answer (up to `$` or the line end); undefined when there is none or the last
 * one is cut off. */
export function lastBoxed(text: string): string | undefined {
  const at = Math.max(text.lastIndexOf("\\boxed"), text.lastIndexOf("\\fbox"));
  if (at < 0) return undefined;
  let i = at + (text.startsWith("\\boxed", at) ? 6 : 5);
  if (text[i] === " " && text[i + 1] !== "{") {
    const rest = text.slice(i + 1);
    const m = /^[^$\n]*/.exec(rest)![0].trim();
    return m === "" ? undefined : m;
  }
  while (text[i] === " ") i++;
  if (text[i] !== "{") return undefined;
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text[j];
    if (c === "\\" && (text[j + 1] === "{" || text[j + 1] === "}")) {
      j++;
      continue;
    }
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return text.slice(i + 1, j);
  }
  return undefined;
}

/** The last `<answer>` body of a completion (packages/azr's extraction), or undefined when it has
 * none. */
function answerTag(completion: string): string | undefined {
  return completion.includes("<answer>") ? extractAnswer(completion) : undefined;
}

export type Extracted = { ok: true; text: string; source: "answer-tag" | "boxed" | "answer-tag-boxed" } | { ok: false; reason: "format" };

/** A math answer: the last \boxed{} inside the `<answer>` tag, else the tag's text; without a tag,
 * the last \boxed{} anywhere; with neither, a format failure (never counted as correct). */
export function extractMathAnswer(completion: string): Extracted {
  const tag = answerTag(completion);
  if (tag !== undefined) {
    const boxed = lastBoxed(tag);
    if (boxed !== undefined && boxed.trim() !== "") return { ok: true, text: boxed.trim(), source: "answer-tag-boxed" };
    if (tag.trim() !== "") return { ok: true, text: tag.trim(), source: "answer-tag" };
  }
  const boxed = lastBoxed(completion);
  if (boxed !== undefined && boxed.trim() !== "") return { ok: true, text: boxed.trim(), source: "boxed" };
  return { ok: false, reason: "format" };
}

const PYTHON_TAGS = new Set(["python", "py", "python3"]);

export type ExtractedProgram = { ok: true; program: string; source: "fence" | "answer-tag" } | { ok: false; reason: "no-code" };

/** A program: within the `<answer>` tag when there is one (else the whole completion), the last
 * ```python fence, else the last fence of any tag; an answer tag holding bare code counts too. */
export function extractProgram(completion: string): ExtractedProgram {
  const tag = answerTag(completion);
  const scope = tag ?? completion;
  const fences = scanFences(scope).filter((f) => f.body.trim() !== "");
  const python = fences.filter((f) => PYTHON_TAGS.has(f.tag));
  const pick = python[python.length - 1] ?? fences.filter((f) => f.tag === "")[fences.filter((f) => f.tag === "").length - 1];
  if (pick) return { ok: true, program: pick.body, source: "fence" };
  if (tag !== undefined && /^\s*(?:def |class |import |from |[A-Za-z_]\w*\s*=)/m.test(tag) && !tag.includes("```")) {
    return { ok: true, program: tag.trim(), source: "answer-tag" };
  }
  return { ok: false, reason: "no-code" };
}
