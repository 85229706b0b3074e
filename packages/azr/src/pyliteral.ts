import type { PyValue } from "@azr/protocol";
import { hashKey } from "./pyequal.ts";

// A parser for the Python literals `ast.literal_eval` accepts (minus complex numbers, which are
// outside the executor's value vocabulary): None/True/False, ints in every base, floats, str and
// bytes with all prefixes and escapes, implicit concatenation, tuples, lists, dicts, sets and
// `set()`. Duplicate dict keys and set elements collapse the way Python's do, and unhashable
// keys are rejected, so the resulting value is the one Python would build.

export type LiteralResult = { ok: true; value: PyValue } | { ok: false; error: string; at: number };
export type ArgsResult = { ok: true; args: PyValue[] } | { ok: false; error: string; at: number };

const MAX_DEPTH = 200; // CPython's parser refuses deeper nesting too

// Not an Error subclass: parse failures are routine (every wrong answer is one), and capturing a
// stack trace for each would dominate the parse time.
class LiteralError {
  constructor(
    readonly message: string,
    readonly at: number,
  ) {}
}

type Node = { value: PyValue; signable: boolean };

class Parser {
  private pos = 0;
  private depth = 0;
  /** In a whole expression, as in `eval`, a newline outside brackets ends the line. */
  private lineMode = false;

  constructor(private readonly src: string) {}

  /** A whole expression: `1, 2` is a tuple, as in `ast.literal_eval("1, 2")`. */
  parseExpression(): PyValue {
    this.skipSpace();
    this.lineMode = true;
    const items: PyValue[] = [];
    let sawComma = false;
    items.push(this.parseValue().value);
    this.skipSpace();
    while (this.peek() === ",") {
      this.pos++;
      sawComma = true;
      this.skipSpace();
      if (this.restIsBlank()) break;
      items.push(this.parseValue().value);
      this.skipSpace();
    }
    this.expectEnd();
    return sawComma ? { t: "tuple", v: items } : items[0]!;
  }

  /** The inside of a call's parentheses: zero or more values, trailing comma allowed. */
  parseArguments(): PyValue[] {
    this.skipSpace();
    const args: PyValue[] = [];
    if (this.atEnd()) return args;
    args.push(this.parseValue().value);
    this.skipSpace();
    while (this.peek() === ",") {
      this.pos++;
      this.skipSpace();
      if (this.atEnd()) break;
      args.push(this.parseValue().value);
      this.skipSpace();
    }
    this.expectEnd();
    return args;
  }

  private restIsBlank(): boolean {
    const save = this.pos;
    const mode = this.lineMode;
    this.lineMode = false;
    this.skipSpace();
    const blank = this.atEnd();
    this.lineMode = mode;
    this.pos = save;
    return blank;
  }

  private expectEnd(): void {
    this.lineMode = false;
    this.skipSpace();
    if (!this.atEnd()) {
      const c = this.peek();
      if (c === "=" && this.src[this.pos + 1] !== "=") this.fail("keyword arguments are not literals");
      if ("+-*/%@<>=!&|^~".includes(c)) this.fail(`operator '${c}' is not allowed in a literal`);
      this.fail(`unexpected '${c}' after the value`);
    }
  }

  private fail(message: string, at = this.pos): never {
    throw new LiteralError(message, at);
  }

  private atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  private peek(): string {
    return this.src[this.pos] ?? "";
  }

  private skipSpace(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if ((c === 10 || c === 13) && this.lineMode && this.depth === 0) break;
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11) this.pos++;
      else if (c === 35 /* # */) {
        while (this.pos < s.length && s[this.pos] !== "\n") this.pos++;
      } else if (c === 92 /* \ */ && (s[this.pos + 1] === "\n" || (s[this.pos + 1] === "\r" && s[this.pos + 2] === "\n"))) {
        this.pos += s[this.pos + 1] === "\n" ? 2 : 3;
      } else break;
    }
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail("too deeply nested");
  }

  private parseValue(): Node {
    this.skipSpace();
    const c = this.peek();
    if (c === "+" || c === "-") {
      const start = this.pos;
      this.pos++;
      this.skipSpace();
      const inner = this.parseValue();
      if (!inner.signable) this.fail(`unary '${c}' only applies to a number`, start);
      return { value: c === "-" ? negate(inner.value) : inner.value, signable: false };
    }
    if (c === "") this.fail("expected a value, found the end of the text");
    if (c === "\n" || c === "\r") this.fail("unexpected newline outside brackets");
    if (c === "(") return this.parseParen();
    if (c === "[") return { value: this.parseList(), signable: false };
    if (c === "{") return { value: this.parseBrace(), signable: false };
    if (c === "'" || c === '"') return { value: this.parseStrings(), signable: false };
    if (isDigit(c) || (c === "." && isDigit(this.src[this.pos + 1] ?? ""))) return { value: this.parseNumber(), signable: true };
    if (isIdentStart(c)) return this.parseName();
    return this.fail(`unexpected '${c}'`);
  }

  private parseParen(): Node {
    this.enter();
    this.pos++; // (
    this.skipSpace();
    if (this.peek() === ")") {
      this.pos++;
      this.depth--;
      return { value: { t: "tuple", v: [] }, signable: false };
    }
    const first = this.parseValue();
    this.skipSpace();
    if (this.peek() === ")") {
      this.pos++;
      this.depth--;
      return first; // parentheses group; they create no node, so `-(1)` stays valid
    }
    const items = [first.value];
    while (this.peek() === ",") {
      this.pos++;
      this.skipSpace();
      if (this.peek() === ")") break;
      items.push(this.parseValue().value);
      this.skipSpace();
    }
    if (this.peek() !== ")") this.fail(this.atEnd() ? "unclosed '('" : `expected ',' or ')', found '${this.peek()}'`);
    this.pos++;
    this.depth--;
    return { value: { t: "tuple", v: items }, signable: false };
  }

  private parseList(): PyValue {
    this.enter();
    this.pos++; // [
    const items: PyValue[] = [];
    this.skipSpace();
    while (this.peek() !== "]") {
      if (this.atEnd()) this.fail("unclosed '['");
      items.push(this.parseValue().value);
      this.skipSpace();
      if (this.peek() === ",") {
        this.pos++;
        this.skipSpace();
      } else if (this.peek() !== "]") this.fail(this.atEnd() ? "unclosed '['" : `expected ',' or ']', found '${this.peek()}'`);
    }
    this.pos++;
    this.depth--;
    return { t: "list", v: items };
  }

  private parseBrace(): PyValue {
    this.enter();
    const open = this.pos;
    this.pos++; // {
    this.skipSpace();
    if (this.peek() === "}") {
      this.pos++;
      this.depth--;
      return { t: "dict", v: [] };
    }
    const firstAt = this.pos;
    const first = this.parseValue().value;
    this.skipSpace();
    const isDict = this.peek() === ":";
    const entries: [PyValue, PyValue][] = [];
    const elements: PyValue[] = [];
    const index = new Map<string, number>();
    const addKey = (key: PyValue, at: number): number | undefined => {
      const h = hashKey(key);
      if (h === null) this.fail(`unhashable type: '${key.t}'`, at);
      return index.get(h);
    };
    const addEntry = (key: PyValue, value: PyValue, at: number) => {
      const existing = addKey(key, at);
      // Python keeps the first key object and the last value for equal keys.
      if (existing !== undefined) entries[existing]![1] = value;
      else {
        index.set(hashKey(key)!, entries.length);
        entries.push([key, value]);
      }
    };
    const addElement = (el: PyValue, at: number) => {
      if (addKey(el, at) === undefined) {
        index.set(hashKey(el)!, elements.length);
        elements.push(el);
      }
    };
    if (isDict) {
      this.pos++;
      addEntry(first, this.parseValue().value, firstAt);
    } else addElement(first, firstAt);
    this.skipSpace();
    while (this.peek() === ",") {
      this.pos++;
      this.skipSpace();
      if (this.peek() === "}") break;
      const at = this.pos;
      const item = this.parseValue().value;
      this.skipSpace();
      if (isDict) {
        if (this.peek() !== ":") this.fail("expected ':' in a dict");
        this.pos++;
        addEntry(item, this.parseValue().value, at);
      } else addElement(item, at);
      this.skipSpace();
    }
    if (this.peek() !== "}") {
      this.fail(this.atEnd() ? `unclosed '{' opened at ${open}` : `expected ',' or '}', found '${this.peek()}'`);
    }
    this.pos++;
    this.depth--;
    return isDict ? { t: "dict", v: entries } : { t: "set", v: elements };
  }

  private parseName(): Node {
    const start = this.pos;
    while (this.pos < this.src.length && isIdentPart(this.src[this.pos]!)) this.pos++;
    const name = this.src.slice(start, this.pos);
    const q = this.peek();
    if ((q === "'" || q === '"') && /^(?:[rRuUbBfF]|[bB][rR]|[rR][bB]|[fF][rR]|[rR][fF])$/.test(name)) {
      this.pos = start;
      return { value: this.parseStrings(), signable: false };
    }
    if (name === "None") return { value: { t: "none" }, signable: false };
    if (name === "True") return { value: { t: "bool", v: true }, signable: false };
    if (name === "False") return { value: { t: "bool", v: false }, signable: false };
    if (name === "set") {
      const save = this.pos;
      this.skipSpace();
      if (this.peek() === "(") {
        this.pos++;
        this.skipSpace();
        if (this.peek() === ")") {
          this.pos++;
          return { value: { t: "set", v: [] }, signable: false };
        }
      }
      this.pos = save;
    }
    return this.fail(`name '${name}' is not a literal`, start);
  }

  private parseNumber(): PyValue {
    const start = this.pos;
    NUMBER.lastIndex = start;
    const m = NUMBER.exec(this.src);
    if (!m) return this.fail("invalid number");
    const text = m[0];
    this.pos += text.length;
    const next = this.peek();
    if (next === "j" || next === "J") this.fail("complex numbers are not supported", start);
    if (isIdentPart(next) || next === ".") this.fail(`invalid number literal '${text}${next}'`, start);
    const clean = text.replace(/_/g, "");
    if (/^0[xXoObB]/.test(clean)) return { t: "int", v: BigInt(clean).toString() };
    if (/[.eE]/.test(clean)) {
      const x = Number(clean);
      return { t: "float", v: x === Infinity ? "inf" : x };
    }
    if (/^0+[1-9]/.test(clean)) this.fail("leading zeros in a decimal integer are not permitted", start);
    return { t: "int", v: BigInt(clean).toString() };
  }

  /** One or more adjacent string literals, concatenated like Python's parser does. */
  private parseStrings(): PyValue {
    let kind: "str" | "bytes" | undefined;
    let text = "";
    const bytes: number[] = [];
    for (;;) {
      const at = this.pos;
      const piece = this.parseOneString();
      if (kind !== undefined && kind !== piece.kind) this.fail("cannot mix bytes and nonbytes literals", at);
      kind = piece.kind;
      if (piece.kind === "str") text += piece.text;
      else for (const b of piece.bytes) bytes.push(b);
      const save = this.pos;
      this.skipSpace();
      const c = this.peek();
      const prefixed = /^[rRuUbBfF]{1,2}['"]/.test(this.src.slice(this.pos, this.pos + 3));
      if (c !== "'" && c !== '"' && !prefixed) {
        this.pos = save;
        break;
      }
    }
    return kind === "bytes" ? { t: "bytes", v: Buffer.from(bytes).toString("base64") } : { t: "str", v: text };
  }

  private parseOneString(): { kind: "str"; text: string } | { kind: "bytes"; bytes: number[] } {
    const start = this.pos;
    let prefix = "";
    while (/[rRuUbBfF]/.test(this.peek())) prefix += this.src[this.pos++];
    const p = prefix.toLowerCase();
    if (p.includes("f")) this.fail("f-strings are not literals", start);
    if (!/^(?:|r|u|b|br|rb)$/.test(p)) this.fail(`invalid string prefix '${prefix}'`, start);
    const raw = p.includes("r");
    const isBytes = p.includes("b");
    const q = this.peek();
    const triple = this.src.startsWith(q.repeat(3), this.pos);
    const delim = triple ? q.repeat(3) : q;
    this.pos += delim.length;
    const codes: number[] = []; // code points for str, byte values for bytes
    const s = this.src;
    for (;;) {
      if (this.pos >= s.length) this.fail(triple ? "unterminated triple-quoted string" : "unterminated string literal", start);
      if (s.startsWith(delim, this.pos)) {
        this.pos += delim.length;
        break;
      }
      const ch = s.codePointAt(this.pos)!;
      const width = ch > 0xffff ? 2 : 1;
      if (ch === 10 && !triple) this.fail("unterminated string literal (newline)", start);
      if (ch !== 92) {
        if (isBytes && ch > 127) this.fail("bytes can only contain ASCII literal characters", this.pos);
        codes.push(ch);
        this.pos += width;
        continue;
      }
      // backslash
      const nxt = s[this.pos + 1];
      if (nxt === undefined) this.fail("unterminated string literal", start);
      if (raw) {
        // In raw strings a backslash still keeps the next quote from ending the string.
        codes.push(92);
        const c2 = s.codePointAt(this.pos + 1)!;
        if (isBytes && c2 > 127) this.fail("bytes can only contain ASCII literal characters", this.pos + 1);
        codes.push(c2);
        this.pos += 1 + (c2 > 0xffff ? 2 : 1);
        continue;
      }
      this.pos += 2;
      switch (nxt) {
        case "\n":
          break;
        case "\r":
          if (s[this.pos] === "\n") this.pos++;
          break;
        case "\\":
          codes.push(92);
          break;
        case "'":
          codes.push(39);
          break;
        case '"':
          codes.push(34);
          break;
        case "a":
          codes.push(7);
          break;
        case "b":
          codes.push(8);
          break;
        case "f":
          codes.push(12);
          break;
        case "n":
          codes.push(10);
          break;
        case "r":
          codes.push(13);
          break;
        case "t":
          codes.push(9);
          break;
        case "v":
          codes.push(11);
          break;
        case "x": {
          const hex = s.slice(this.pos, this.pos + 2);
          if (!/^[0-9a-fA-F]{2}$/.test(hex)) this.fail("truncated \\xXX escape", this.pos - 2);
          codes.push(parseInt(hex, 16));
          this.pos += 2;
          break;
        }
        case "u":
        case "U": {
          if (isBytes) {
            codes.push(92, nxt.charCodeAt(0));
            break;
          }
          const len = nxt === "u" ? 4 : 8;
          const hex = s.slice(this.pos, this.pos + len);
          if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail(`truncated \\${nxt} escape`, this.pos - 2);
          const cp = parseInt(hex, 16);
          if (cp > 0x10ffff) this.fail("illegal Unicode character", this.pos - 2);
          codes.push(cp);
          this.pos += len;
          break;
        }
        case "N":
          if (isBytes) codes.push(92, 78);
          else this.fail("\\N{...} escapes are not supported", this.pos - 2);
          break;
        default:
          if (nxt >= "0" && nxt <= "7") {
            let oct = nxt;
            while (oct.length < 3 && /[0-7]/.test(s[this.pos] ?? "")) oct += s[this.pos++];
            const v = parseInt(oct, 8);
            if (isBytes && v > 255) this.fail("octal escape out of range for bytes", this.pos - oct.length - 1);
            codes.push(v);
          } else {
            // Unknown escapes keep their backslash (Python warns but accepts them).
            codes.push(92);
            this.pos -= 1;
          }
      }
    }
    if (isBytes) return { kind: "bytes", bytes: codes };
    let text = "";
    for (let i = 0; i < codes.length; i += 4096) text += String.fromCodePoint(...codes.slice(i, i + 4096));
    return { kind: "str", text };
  }
}

const NUMBER =
  /0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\.?)(?:[eE][+-]?[0-9](?:_?[0-9])*)?/y;

function negate(v: PyValue): PyValue {
  switch (v.t) {
    case "int":
      return { t: "int", v: v.v === "0" ? "0" : v.v.startsWith("-") ? v.v.slice(1) : `-${v.v}` };
    case "float":
      return { t: "float", v: v.v === "inf" ? "-inf" : v.v === "-inf" ? "inf" : v.v === "nan" ? "nan" : -v.v };
    default:
      return v;
  }
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

function isIdentStart(c: string): boolean {
  return /^[\p{L}\p{Nl}_]$/u.test(c);
}

function isIdentPart(c: string): boolean {
  return c !== "" && /^[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_]$/u.test(c);
}

function run<T>(f: () => T): { ok: true; value: T } | { ok: false; error: string; at: number } {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (e instanceof LiteralError) return { ok: false, error: e.message, at: e.at };
    if (e instanceof RangeError) return { ok: false, error: `value too large or too deep: ${e.message}`, at: 0 };
    throw e;
  }
}

/** `ast.literal_eval(text)` for the executor's value types; never throws. */
export function parseLiteral(text: string): LiteralResult {
  return run(() => new Parser(text).parseExpression());
}

/** The arguments of `f(<text>)`, as `ast.literal_eval` of the argument tuple; never throws. */
export function parseArgs(text: string): ArgsResult {
  const r = run(() => new Parser(text).parseArguments());
  return r.ok ? { ok: true, args: r.value } : r;
}
