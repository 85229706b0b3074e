// Reading model output: the think/answer format check, answer extraction, fenced blocks and the
// fallbacks of azr-spec §0–2. Every function here is total: any string in, a typed result out.

export const THINK_PRIMER = "<think>";

/** The generation as the reference parses it: the prompt ends with an open `<think>`, so the
 * completion is read with that tag in front (unless the backend already echoed it). */
export function primeResponse(completion: string, primer: string = THINK_PRIMER): string {
  return completion.startsWith(primer) ? completion : primer + completion;
}

/** `re.match(r"<think>.*?</think>\s*<answer>.*?</answer>", text, re.DOTALL)`, without a regex so
 * a huge response costs one linear scan. */
export function checkFormat(response: string): boolean {
  if (!response.startsWith("<think>")) return false;
  let from = 7;
  for (;;) {
    const close = response.indexOf("</think>", from);
    if (close < 0) return false;
    let i = close + 8;
    while (i < response.length && isSpace(response.charCodeAt(i))) i++;
    if (response.startsWith("<answer>", i)) return response.indexOf("</answer>", i + 8) >= 0;
    from = close + 1;
  }
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0x1c || c === 0x1d || c === 0x1e || c === 0x1f || c === 0x85 || c === 0xa0 || c === 0x2028 || c === 0x2029 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a) || c === 0x1680 || c === 0x202f || c === 0x205f;
}

/** Text after the last `<answer>` up to the next `</answer>` (or the end); "" when there is no
 * `<answer>` at all. */
export function extractAnswer(response: string): string {
  const open = response.lastIndexOf("<answer>");
  if (open < 0) return "";
  const start = open + 8;
  const close = response.indexOf("</answer>", start);
  return close < 0 ? response.slice(start) : response.slice(start, close);
}

export interface Fence {
  /** The info word after the backticks, lower-cased ("" for a bare fence). */
  tag: string;
  body: string;
  start: number;
}

/** Closed fenced blocks in order. A fence closes at the next run of as many backticks as opened
 * it, like the reference's non-greedy regex; unclosed (truncated) fences are dropped. */
export function scanFences(text: string): Fence[] {
  const fences: Fence[] = [];
  let at = 0;
  for (;;) {
    const open = text.indexOf("```", at);
    if (open < 0) return fences;
    let ticks = 3;
    while (text[open + ticks] === "`") ticks++;
    const marker = "`".repeat(ticks);
    const afterTicks = open + ticks;
    const close = text.indexOf(marker, afterTicks);
    if (close < 0) return fences;
    // Look for the info line's end only inside this fence, so many fences on one long line
    // stay linear overall.
    let newline = -1;
    for (let i = afterTicks; i < close; i++) {
      if (text.charCodeAt(i) === 10) {
        newline = i;
        break;
      }
    }
    let tag: string;
    let body: string;
    if (newline >= 0) {
      tag = text.slice(afterTicks, newline).trim().split(/\s+/)[0] ?? "";
      body = text.slice(newline + 1, close);
    } else {
      // One-line fence such as ```input 1, 2```: the first word is the tag.
      const inline = text.slice(afterTicks, close);
      const m = /^(\S*)\s*([\s\S]*)$/.exec(inline)!;
      tag = m[1]!;
      body = m[2]!;
    }
    fences.push({ tag: tag.toLowerCase(), body: body.replace(/\r?\n$/, ""), start: open });
    at = close + ticks;
  }
}

function isCodeTag(tag: string): boolean {
  return tag === "python" || tag === "";
}

export type ProposalParse =
  | { ok: true; code: string; input: string }
  | { ok: false; reason: "format" | "no-code" | "no-input" };

export type InductionProposalParse =
  | { ok: true; inputs: string[]; message: string }
  | { ok: false; reason: "format" | "no-message" | "too-few-inputs"; found?: number };

/** A deduction/abduction proposal: the first python (or bare) block and the first input block,
 * with a `# Input:` line as the fallback for the input. */
export function parseTripletProposal(response: string): ProposalParse {
  if (!checkFormat(response)) return { ok: false, reason: "format" };
  const answer = extractAnswer(response);
  const fences = scanFences(answer);
  const code = fences.find((f) => isCodeTag(f.tag));
  if (!code || code.body.trim() === "") return { ok: false, reason: "no-code" };
  const input = fences.find((f) => f.tag === "input")?.body ?? hashLine(answer, "Input");
  if (input === undefined || input.trim() === "") return { ok: false, reason: "no-input" };
  return { ok: true, code: code.body, input: input.trim() };
}

/** An induction proposal: every input block (the last `count` are kept) and a message. */
export function parseInductionProposal(response: string, count: number): InductionProposalParse {
  if (!checkFormat(response)) return { ok: false, reason: "format" };
  const answer = extractAnswer(response);
  const fences = scanFences(answer);
  const inputs = fences.filter((f) => f.tag === "input").map((f) => f.body.trim());
  const message = extractMessage(answer, fences);
  if (message === undefined) return { ok: false, reason: "no-message" };
  if (inputs.length < count) return { ok: false, reason: "too-few-inputs", found: inputs.length };
  return { ok: true, inputs: inputs.slice(inputs.length - count), message };
}

function extractMessage(answer: string, fences: Fence[]): string | undefined {
  const fenced = fences.find((f) => f.tag === "message");
  if (fenced && fenced.body.trim() !== "") return fenced.body.trim();
  const tagged = between(answer, "<message>", "</message>");
  if (tagged !== undefined && tagged.trim() !== "") return tagged.trim();
  const line = hashLine(answer, "Message");
  return line !== undefined && line !== "" ? line : undefined;
}

export type SolverFieldSource = "fence" | "hash-line" | "call" | "tag" | "phrase" | "whole-answer";

/** A solver's input or output: the last matching fence (any case), then `# Input:` line, then
 * `input(...)`, then `<input>` tags, then "the input is ...", then the whole answer. */
export function extractSolverField(answer: string, field: "input" | "output"): { text: string; source: SolverFieldSource } {
  const fences = scanFences(answer).filter((f) => f.tag === field);
  if (fences.length > 0) return { text: fences[fences.length - 1]!.body.trim(), source: "fence" };
  const label = field === "input" ? "Input" : "Output";
  const line = hashLine(answer, label);
  if (line !== undefined && line !== "") return { text: line, source: "hash-line" };
  const call = lastCallArgs(answer, field);
  if (call !== undefined) return { text: call.trim(), source: "call" };
  const tagged = between(answer, `<${field}>`, `</${field}>`);
  if (tagged !== undefined && tagged.trim() !== "") return { text: tagged.trim(), source: "tag" };
  const phrase = cached(PHRASES, field, () => new RegExp(`the ${field} is[:\\s]+(.+)`, "i")).exec(answer);
  if (phrase) return { text: phrase[1]!.trim().replace(/\.$/, "").trim(), source: "phrase" };
  return { text: answer.trim(), source: "whole-answer" };
}

/** The induction solver's program: the last python (or bare) block of the answer. */
export function extractSolverCode(answer: string): string | undefined {
  const code = scanFences(answer).filter((f) => isCodeTag(f.tag));
  const last = code[code.length - 1];
  return last && last.body.trim() !== "" ? last.body : undefined;
}

const HASH_LINES = new Map<string, RegExp>();
const PHRASES = new Map<string, RegExp>();
const CALLS = new Map<string, RegExp>();

function cached(cache: Map<string, RegExp>, key: string, build: () => RegExp): RegExp {
  let re = cache.get(key);
  if (!re) cache.set(key, (re = build()));
  re.lastIndex = 0;
  return re;
}

function hashLine(text: string, label: string): string | undefined {
  const m = cached(HASH_LINES, label, () => new RegExp(`^[ \\t]*#[ \\t]*${label}[ \\t]*:[ \\t]*(.*)$`, "im")).exec(text);
  return m ? m[1]!.trim() : undefined;
}

function between(text: string, open: string, close: string): string | undefined {
  const a = text.indexOf(open);
  if (a < 0) return undefined;
  const b = text.indexOf(close, a + open.length);
  return b < 0 ? undefined : text.slice(a + open.length, b);
}

/** Arguments of the last `name(...)` call with balanced parentheses (strings ignored). */
function lastCallArgs(text: string, name: string): string | undefined {
  if (!text.includes(`${name}(`)) return undefined;
  const re = cached(CALLS, name, () => new RegExp(`(?<![\\w.])${name}\\(`, "g"));
  let last = -1;
  for (let m = re.exec(text); m; m = re.exec(text)) last = m.index + m[0].length;
  if (last < 0) return undefined;
  let depth = 1;
  for (let i = last; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return text.slice(last, i);
  }
  return undefined;
}
