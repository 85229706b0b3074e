// Normalising final math answers before they are compared, in the spirit of the math evaluation
// harnesses the reference uses (strip_string and friends): LaTeX spacing and sizing commands,
// \dfrac/\tfrac, \left/\right, text and units, degrees, percent signs, thousands separators,
// trailing ".0", "x = 5". Then a cheap numeric reading for plain numbers; anything else is left
// to sympy in the sandbox (math-sympy.ts), which gets a sympy-parsable rewrite of the LaTeX.

const UNIT_WORDS = [
  "units?",
  "sq\\.? units?",
  "square units?",
  "degrees?",
  "cm\\^?2?",
  "centimeters?",
  "m\\^?2?",
  "meters?",
  "km",
  "kilometers?",
  "inch(?:es)?",
  "feet",
  "foot",
  "ft",
  "miles?",
  "mph",
  "hours?",
  "minutes?",
  "seconds?",
  "days?",
  "dollars?",
  "cents?",
  "pounds?",
  "points?",
];
const TRAILING_UNIT = new RegExp(`(\\d|\\})\\s*(?:${UNIT_WORDS.join("|")})\\s*$`, "i");

/** Replaces `\cmd{X}` (balanced braces) with `X`. */
function unwrapCommand(s: string, cmd: string): string {
  let out = s;
  for (let guard = 0; guard < 100; guard++) {
    const at = out.indexOf(`\\${cmd}{`);
    if (at < 0) return out;
    const open = at + cmd.length + 1;
    let depth = 0;
    let close = -1;
    for (let j = open; j < out.length; j++) {
      if (out[j] === "{") depth++;
      else if (out[j] === "}" && --depth === 0) {
        close = j;
        break;
      }
    }
    if (close < 0) return out;
    out = out.slice(0, at) + out.slice(open + 1, close) + out.slice(close + 1);
  }
  return out;
}

/** `\frac12` → `\frac{1}{2}`, `\frac1{x}` → `\frac{1}{x}`, `\sqrt2` → `\sqrt{2}`. */
function braceShorthand(s: string): string {
  return s
    .replace(/\\frac\s*(\d)\s*(\d)/g, "\\frac{$1}{$2}")
    .replace(/\\frac\s*(\d)\s*(?=\{)/g, "\\frac{$1}")
    .replace(/\\frac\s*(\{[^{}]*\})\s*(\d)/g, "\\frac$1{$2}")
    .replace(/\\sqrt\s*(\d+|[a-zA-Z])/g, "\\sqrt{$1}");
}

/** The normal form two answers are compared in (exact match after this counts as equal). */
export function normalizeAnswer(raw: string): string {
  let s = raw.normalize("NFKC").trim();
  // Unicode forms models write instead of LaTeX.
  s = s
    .replace(/[\u2212\u2012\u2013\u2014]/g, "-")
    .replace(/[×⋅·]/g, "\\cdot ")
    .replace(/÷/g, "/")
    .replace(/π/g, "\\pi ")
    .replace(/∞/g, "\\infty ")
    .replace(/√\s*\(([^()]*)\)/g, "\\sqrt{$1}")
    .replace(/√\s*([0-9a-zA-Z]+)/g, "\\sqrt{$1}")
    .replace(/°/g, "");
  // Math delimiters around the whole answer.
  s = s.replace(/^\$+|\$+$/g, "").replace(/^\\\(|\\\)$/g, "").replace(/^\\\[|\\\]$/g, "").trim();
  s = s.replace(/\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])\s*/g, "");
  s = s.replace(/\\[,;:! ]/g, "").replace(/~/g, " ").replace(/\\(?:displaystyle|textstyle)/g, "");
  s = s.replace(/\\[dt]frac/g, "\\frac");
  s = s.replace(/\^\s*\{?\s*\\circ\s*\}?/g, "").replace(/\\circ/g, "");
  s = s.replace(/\\%|%/g, "");
  s = s.replace(/\\(?:mathrm|mathbf|mathit|rm|bf)\s*\{/g, "\\text{");
  // A trailing text unit ("5 \text{ cm}") goes before unwrapping text generally.
  s = s.replace(/(\d|\})\s*\\(?:text|mbox)\{\s*[a-zA-Z. ^0-9]*\}\s*$/, "$1");
  s = unwrapCommand(unwrapCommand(s, "text"), "mbox");
  s = s.replace(TRAILING_UNIT, "$1");
  s = braceShorthand(s);
  // "x = 5", "k=\frac{1}{2}": keep the right-hand side when the left is one symbol.
  const eq = /^\s*\\?[a-zA-Z]\w*\s*=\s*([^=<>]+)$/.exec(s);
  if (eq) s = eq[1]!;
  s = s.replace(/\s+/g, "");
  // Thousands separators in a plain number (1,000,000), not in tuples such as (1,000).
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/,/g, "");
  s = s.replace(/\{,\}/g, "");
  s = s.replace(/\.$/, "");
  // ".5" → "0.5", "12.0" / "12.000" → "12"
  s = s.replace(/(^|[^\d])\.(\d)/g, "$10.$2");
  s = s.replace(/^(-?\d+)\.0+$/, "$1");
  // Outer braces of the whole answer.
  while (/^\{[^{}]*\}$/.test(s)) s = s.slice(1, -1);
  return s;
}

/** The value of a plain number in normal form: integers, decimals, scientific notation, a/b and
 * \frac{a}{b} of such numbers, with a sign. Undefined for anything else. */
export function numericValue(s: string): number | undefined {
  const num = "(-?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?)";
  let m = new RegExp(`^${num}$`).exec(s);
  if (m) return Number(m[1]);
  m = new RegExp(`^${num}/${num}$`).exec(s);
  if (m) return Number(m[1]) / Number(m[2]);
  m = new RegExp(`^(-?)\\\\frac\\{${num}\\}\\{${num}\\}$`).exec(s);
  if (m) return (m[1] === "-" ? -1 : 1) * (Number(m[2]) / Number(m[3]));
  return undefined;
}

/** Equal as numbers: relative tolerance 1e-4 (math-evaluation-harness's numeric_equal), exact for
 * integers. */
export function numericEqual(a: number, b: number): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  if (Number.isInteger(a) && Number.isInteger(b)) return a === b;
  return Math.abs(a - b) <= 1e-4 * Math.max(Math.abs(a), Math.abs(b));
}

/** A sympy-parsable rewrite of a normalised LaTeX answer (parse_expr with implicit
 * multiplication does the rest in the sandbox). */
export function latexToSympy(s: string): string {
  let t = s;
  // \frac{a}{b} and \sqrt[n]{x}, innermost first.
  for (let guard = 0; guard < 50; guard++) {
    const before = t;
    t = t.replace(/\\frac\{([^{}]*)\}\{([^{}]*)\}/g, "(($1)/($2))");
    t = t.replace(/\\sqrt\[([^\]]*)\]\{([^{}]*)\}/g, "(($2)**(1/($1)))");
    t = t.replace(/\\sqrt\{([^{}]*)\}/g, "sqrt($1)");
    t = t.replace(/\\binom\{([^{}]*)\}\{([^{}]*)\}/g, "binomial($1,$2)");
    if (t === before) break;
  }
  t = t
    .replace(/\\(?:cdot|times)/g, "*")
    .replace(/\\div/g, "/")
    .replace(/\\pi/g, "pi")
    .replace(/\\infty/g, "oo")
    .replace(/\\ln/g, "log")
    .replace(/\\log/g, "log")
    .replace(/\\(sin|cos|tan|cot|sec|csc|arcsin|arccos|arctan|exp)/g, "$1")
    .replace(/\\(alpha|beta|gamma|theta|phi|lambda|mu|sigma|omega)/g, "$1")
    .replace(/\^/g, "**")
    .replace(/\{/g, "(")
    .replace(/\}/g, ")")
    .replace(/\\/g, "");
  return t;
}
