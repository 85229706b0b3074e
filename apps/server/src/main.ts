import { DatabaseSetupError, openDatabase } from "@azr/db";
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
  const db = await openDatabase({ log: (line) => console.log(`[db] ${line}`) });
  console.log(`[db] ${db.describe()} ready`);
  let plane;
  try {
    plane = await startControlPlane(db, command.options);
  } catch (e) {
    await db.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === "EADDRINUSE") throw new Error(`port ${command.options.port} on ${command.options.host} is in use; pick another with --port`);
    throw e;
  }
  console.log(`AZR control plane listening on ${plane.url} (health: ${plane.url}/healthz); Ctrl-C stops it`);
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
