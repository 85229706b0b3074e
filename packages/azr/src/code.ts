import type { DefRule } from "@azr/protocol";

// Source-level checks done in the control plane, before anything is sent to the sandbox. They are
// textual on purpose: the reference applies its `def` rule and the rename to `f` with regexes,
// so doing the same here matches it exactly and spares a sandbox round trip for rejects. Checks
// that need a real Python AST (banned imports) are requested from the executor instead.

const IDENT = String.raw`[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_]*`;
const ANY_DEF = new RegExp(String.raw`^[ \t]*def[ \t]+(${IDENT})[ \t]*\(`, "gmu");
const TOP_DEF = new RegExp(String.raw`^def[ \t]+(${IDENT})[ \t]*\(`, "gmu");

export type EntryCheck =
  | { ok: true; program: string; renamedFrom?: string }
  | { ok: false; reason: "no-function" | "multiple-functions" | "ambiguous-entry" };

function defNames(code: string, re: RegExp): string[] {
  return [...code.matchAll(re)].map((m) => m[1]!);
}

/** Applies the configured def rule and renames the entry function (and its `name(` call sites)
 * to `f`.
 * - `single-def` (reference): exactly one `def` line anywhere — nested functions and methods
 *   count — and that function is the entry.
 * - `top-level-f`: the top-level `f` if there is one, else the only top-level function; helper
 *   functions, nested functions and classes are allowed. */
export function applyDefRule(code: string, rule: DefRule): EntryCheck {
  let entry: string;
  if (rule === "single-def") {
    const names = defNames(code, ANY_DEF);
    if (names.length === 0) return { ok: false, reason: "no-function" };
    if (names.length > 1) return { ok: false, reason: "multiple-functions" };
    entry = names[0]!;
  } else {
    const names = defNames(code, TOP_DEF);
    if (names.length === 0) return { ok: false, reason: "no-function" };
    if (names.includes("f")) entry = "f";
    else if (names.length === 1) entry = names[0]!;
    else return { ok: false, reason: "ambiguous-entry" };
  }
  if (entry === "f") return { ok: true, program: code };
  return { ok: true, program: renameCalls(code, entry, "f"), renamedFrom: entry };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Renames `name(` at the definition and call sites; attribute calls (`obj.name(`) and longer
 * identifiers that merely end in `name` are left alone. */
export function renameCalls(code: string, from: string, to: string): string {
  const re = new RegExp(String.raw`(?<![\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_.])${escapeRegExp(from)}(?=[ \t]*\()`, "gu");
  return code.replace(re, to);
}

/** Top-level import lines (`import x`, `from x import y`), which the reference stores beside the
 * snippet and prepends again when it runs it. */
export function collectImports(code: string): string[] {
  const out: string[] = [];
  for (const line of code.split("\n")) {
    if (/^(?:import[ \t]+\S|from[ \t]+\S+[ \t]+import[ \t])/.test(line)) out.push(line.trim());
  }
  return out;
}
