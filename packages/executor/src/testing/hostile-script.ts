// Runs the hostile suite on a bwrap pool and prints a JSON report; used by the test that runs
// the suite as an unprivileged host user (spawned through setpriv).
import { BwrapBackend } from "../bwrap.ts";
import { ExecutorPool } from "../pool.ts";
import { runHostileSuite } from "./hostile-suite.ts";

const marker = process.argv[2] ?? `/tmp/azr-hostile-${process.pid}`;
const canary = process.env.AZR_TEST_CANARY ?? "no-canary";
const pool = await new ExecutorPool(new BwrapBackend(), { runners: 2 }).start();
try {
  const report = await runHostileSuite(pool, { hostMarker: marker, envCanary: canary, backend: "bwrap" });
  process.stdout.write(JSON.stringify({ uid: process.getuid?.(), ...report }) + "\n");
} finally {
  await pool.close();
}
