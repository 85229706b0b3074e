import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

// Where `azr login` keeps the server URL and token: $AZR_CONFIG_DIR/credentials.json, default
// ~/.config/azr, written 0600 in a 0700 directory so other local users cannot read the token.

export interface Credentials {
  url: string;
  token: string;
}

export function configDir(env: NodeJS.ProcessEnv): string {
  return env.AZR_CONFIG_DIR || path.join(env.XDG_CONFIG_HOME || path.join(homedir(), ".config"), "azr");
}

export function credentialsFile(env: NodeJS.ProcessEnv): string {
  return path.join(configDir(env), "credentials.json");
}

export function saveCredentials(env: NodeJS.ProcessEnv, creds: Credentials): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = credentialsFile(env);
  // Created with mode 0600 and re-chmodded: an existing file keeps its old mode on write.
  writeFileSync(file, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

export function removeCredentials(env: NodeJS.ProcessEnv): boolean {
  const file = credentialsFile(env);
  if (!existsSync(file)) return false;
  rmSync(file);
  return true;
}

export class CredentialsError extends Error {}

/** Flags win over AZR_URL / AZR_TOKEN, which win over the saved file. */
export function resolveCredentials(env: NodeJS.ProcessEnv, flags: { url?: string; token?: string }): Credentials {
  let saved: Partial<Credentials> = {};
  const file = credentialsFile(env);
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o077;
    if (mode !== 0) throw new CredentialsError(`${file} is readable by other users; run: chmod 600 ${file}`);
    try {
      saved = JSON.parse(readFileSync(file, "utf8")) as Partial<Credentials>;
    } catch {
      throw new CredentialsError(`${file} is not valid JSON; run azr login again`);
    }
  }
  const url = flags.url ?? env.AZR_URL ?? saved.url ?? "http://127.0.0.1:4300";
  const token = flags.token ?? env.AZR_TOKEN ?? saved.token;
  if (!token) throw new CredentialsError("not signed in: run azr login --url URL --token TOKEN (or set AZR_TOKEN)");
  return { url, token };
}
