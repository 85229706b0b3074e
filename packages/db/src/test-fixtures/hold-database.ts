// Opens the embedded database in the directory given as argv[2], says "ready", and holds it until
// stdin closes: the "other process" of the lock tests.
import { openDatabase } from "../client.ts";

const db = await openDatabase({ target: { kind: "pglite", dataDir: process.argv[2]! } });
process.stdout.write("ready\n");
process.stdin.resume();
process.stdin.on("end", () => {
  void db.close().then(() => process.exit(0));
});
