import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { AzrClient } from "@azr/client";
import { parse, UsageError } from "../args.ts";
import { removeCredentials, saveCredentials } from "../credentials.ts";
import { colors, json, table, type Io } from "../output.ts";

export async function cmdToken(client: () => AzrClient, argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "create") {
    const { values, positionals } = parse(rest, { scope: { type: "string", multiple: true }, "expires-days": { type: "string" }, user: { type: "string" } });
    const name = positionals[0];
    if (!name) throw new UsageError("azr token create needs a name");
    const scopes = (values.scope ?? []).flatMap((s) => s.split(",")).filter(Boolean);
    if (scopes.length === 0) throw new UsageError("azr token create needs --scope read|write|admin");
    const days = values["expires-days"] === undefined ? undefined : Number(values["expires-days"]);
    if (days !== undefined && (!Number.isInteger(days) || days < 1)) throw new UsageError("--expires-days must be a whole number of days");
    const created = await client().tokens.create.mutate({ name, scopes: scopes as never, ...(days ? { expiresInDays: days } : {}), ...(values.user ? { user: values.user } : {}) });
    if (values.json) json(io, created);
    else io.out(`created token ${created.record.id} (${created.record.scopes.join(",")}) for ${created.record.userName}.\nThe secret is shown only now; store it:\n\n  ${created.token}\n`);
    return 0;
  }
  if (sub === "ls") {
    const { values } = parse(rest, { all: { type: "boolean" }, revoked: { type: "boolean" } }, false);
    const list = await client().tokens.list.query({ all: Boolean(values.all), includeRevoked: Boolean(values.revoked) });
    if (values.json) json(io, list);
    else
      io.out(
        table(
          ["ID", "NAME", "USER", "PREFIX", "SCOPES", "LAST USED", "EXPIRES", "REVOKED"],
          list.items.map((t) => [t.id, t.name, t.userName ?? "-", `${t.prefix}…`, t.scopes.join(","), t.lastUsedAt?.slice(0, 16) ?? "-", t.expiresAt?.slice(0, 10) ?? "never", t.revokedAt ? "yes" : ""]),
        ),
      );
    return 0;
  }
  if (sub === "revoke") {
    const { values, positionals } = parse(rest, {});
    if (!positionals[0]) throw new UsageError("azr token revoke needs a token id (azr token ls shows them)");
    const t = await client().tokens.revoke.mutate({ id: positionals[0] });
    if (values.json) json(io, t);
    else io.out(`revoked token ${t.id} (${t.name})`);
    return 0;
  }
  throw new UsageError(`azr token: expected create, ls or revoke${sub ? `, not "${sub}"` : ""}`);
}

export async function cmdLogin(makeClient: (url: string, token: string) => AzrClient, argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {}, false);
  const token = values.token ?? io.env.AZR_TOKEN;
  if (!token) throw new UsageError("azr login needs --token TOKEN");
  const url = values.url ?? io.env.AZR_URL ?? "http://127.0.0.1:4300";
  const client = makeClient(url, token);
  const me = await client.tokens.whoami.query();
  await client.close();
  const file = saveCredentials(io.env, { url, token });
  if (values.json) json(io, { ...me, url, file });
  else io.out(`signed in to ${url} as ${colors(io).bold(me.userName)} (${me.scope}); saved to ${file} (mode 0600)`);
  return 0;
}

export function cmdLogout(argv: string[], io: Io): number {
  parse(argv, {}, false);
  io.out(removeCredentials(io.env) ? "signed out" : "was not signed in");
  return 0;
}

/** `azr server`: the control plane's own entry point, in this process's terminal. */
export function cmdServer(argv: string[]): Promise<number> {
  const main = fileURLToPath(new URL("../../../server/src/main.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", main, ...argv], { stdio: "inherit" });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  return new Promise((resolve) => child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}
