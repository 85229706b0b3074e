import { runCli } from "./cli.ts";
import { processIo } from "./output.ts";

runCli(process.argv.slice(2), processIo()).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
