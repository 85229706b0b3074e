import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {}

/** node:util parseArgs with errors turned into usage errors (exit code 2). */
export function parse<T extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" }, json: { type: "boolean" }, url: { type: "string" }, token: { type: "string" } }, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `--set a.b.c=value`: the value is read as JSON when it parses (numbers, booleans, lists,
 * quoted strings), otherwise taken as text. */
export function applySets(target: Record<string, unknown>, sets: string[]): Record<string, unknown> {
  for (const s of sets) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set ${s}: expected key=value, e.g. --set azr.batchSize=8`);
    const key = s.slice(0, eq);
    const raw = s.slice(eq + 1);
    if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(key)) throw new UsageError(`--set ${s}: the key must be a dotted path like optim.lr`);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // plain text
    }
    const parts = key.split(".");
    let node = target;
    for (const p of parts.slice(0, -1)) {
      const next = node[p];
      if (typeof next !== "object" || next === null || Array.isArray(next)) node[p] = {};
      node = node[p] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]!] = value;
  }
  return target;
}

export const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function runIdArg(positionals: string[], command: string): string {
  const id = positionals[0];
  if (!id) throw new UsageError(`azr ${command} needs a run id`);
  if (!RUN_ID.test(id)) throw new UsageError(`"${id}" is not a run id (a uuid, as azr ls shows)`);
  return id;
}
