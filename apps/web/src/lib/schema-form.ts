import { z } from "zod";

/** One editable leaf of the run-config schema, found by walking the zod schema itself, so the
 * form follows the schema (new fields appear without touching the dashboard). */
export type FieldSpec =
  | { path: string[]; kind: "number"; int: boolean; min?: number; max?: number }
  | { path: string[]; kind: "enum"; options: string[] }
  | { path: string[]; kind: "boolean" }
  | { path: string[]; kind: "string" }
  | { path: string[]; kind: "enum-list"; options: string[] }
  | { path: string[]; kind: "string-list" };

/** Strips default/prefault/optional/nullable wrappers. */
export function unwrap(s: z.ZodType): z.ZodType {
  let cur: z.ZodType = s;
  for (let i = 0; i < 10; i++) {
    const def = cur._zod.def as { type: string; innerType?: z.ZodType };
    if ((def.type === "default" || def.type === "prefault" || def.type === "optional" || def.type === "nullable") && def.innerType) cur = def.innerType;
    else break;
  }
  return cur;
}

export function fieldsOf(schema: z.ZodType, path: string[] = []): FieldSpec[] {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) {
    return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) => fieldsOf(v, [...path, k]));
  }
  if (s instanceof z.ZodNumber) {
    const spec: FieldSpec = { path, kind: "number", int: s.isInt };
    if (Number.isFinite(s.minValue ?? NaN)) spec.min = s.minValue!;
    if (Number.isFinite(s.maxValue ?? NaN)) spec.max = s.maxValue!;
    return [spec];
  }
  if (s instanceof z.ZodEnum) return [{ path, kind: "enum", options: s.options.map(String) }];
  if (s instanceof z.ZodBoolean) return [{ path, kind: "boolean" }];
  if (s instanceof z.ZodString) return [{ path, kind: "string" }];
  if (s instanceof z.ZodArray) {
    const el = unwrap(s.element as z.ZodType);
    if (el instanceof z.ZodEnum) return [{ path, kind: "enum-list", options: el.options.map(String) }];
    return [{ path, kind: "string-list" }];
  }
  return [];
}

export function getPath(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const p of path) cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[p] : undefined;
  return cur;
}

export function setPath<T>(obj: T, path: string[], value: unknown): T {
  if (path.length === 0) return value as T;
  const [head, ...rest] = path;
  const base = obj && typeof obj === "object" && !Array.isArray(obj) ? (obj as Record<string, unknown>) : {};
  return { ...base, [head!]: setPath(base[head!], rest, value) } as T;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The leaves of `value` that differ from `base`: the overrides to send with a preset. */
export function diffFrom(base: unknown, value: unknown): Record<string, unknown> | undefined {
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const d = diffFrom(isObject(base) ? base[k] : undefined, v);
      if (d !== undefined) out[k] = isObject(v) ? d : v;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return JSON.stringify(base) === JSON.stringify(value) ? undefined : (value as Record<string, unknown>);
}

/** zod issues by dotted path ("azr.batchSize" → message). */
export function issuesByPath(error: z.ZodError | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const i of error?.issues ?? []) {
    const key = i.path.map(String).join(".");
    if (!m.has(key)) m.set(key, i.message);
  }
  return m;
}
