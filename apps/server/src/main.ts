import { DatabaseSetupError, openDatabase } from "@azr/db";
import { loadAdminConfig } from "@azr/orchestrator";
import { parseServerArgs, serverHelp } from "./options.ts";
import { startControlPlane } from "./server.ts";

async function main(): Promise<number> {
  let command;
  try {
    command = parseServerArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n\n${serverHelp}`);
    return 2;
  }
  if (command.help) {
    console.log(serverHelp);
    return 0;
  }
  // The admin file is read before the database opens: a broken file stops the server early.
  const admin = loadAdminConfig(process.env.AZR_ADMIN_CONFIG ?? ".azr/admin.yaml");
  const db = await openDatabase({ log: (line) => console.log(`[db] ${line}`) });
  console.log(`[db] ${db.describe()} ready`);
  let plane;
  try {
    plane = await startControlPlane(db, command.options, { admin: admin.config, secureCookies: process.env.AZR_SECURE_COOKIES === "1" });
    const first = await plane.api.services.auth.ensureAdminToken(process.env.AZR_ADMIN_TOKEN || undefined);
    if (first?.created && !process.env.AZR_ADMIN_TOKEN) {
      // Shown once: only its SHA-256 is stored.
      console.log(`\nFirst start: created an admin API token. It is shown only now; store it:\n\n  ${first.token}\n\nSign the CLI in with: azr login --url <server url> --token <token>\n`);
    } else if (first?.created) {
      console.log("registered AZR_ADMIN_TOKEN as the admin API token");
    }
  } catch (e) {
    await db.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === "EADDRINUSE") throw new Error(`port ${command.options.port} on ${command.options.host} is in use; pick another with --port`);
    throw e;
  }
  console.log(`[config] admin configuration: ${admin.source}`);
  console.log(`AZR control plane listening on ${plane.url} (health: ${plane.url}/healthz, API: ${plane.url}/api/v1, OpenAPI: ${plane.url}/api/openapi.json); Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  console.log("shutting down");
  await plane.close();
  await db.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`error: ${e instanceof DatabaseSetupError || e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
