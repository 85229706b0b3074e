import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Builds the dashboard once per test run (`next build`, about 1–2 minutes on 2 cores), into
 * AZR_WEB_DIST_DIR when set (default .next/). AZR_WEB_REUSE_BUILD=1 reuses an existing build
 * (local iteration only). */
export default function setup(): void {
  if (process.env.AZR_WEB_REUSE_BUILD === "1" && existsSync(path.join(webDir, process.env.AZR_WEB_DIST_DIR || ".next", "BUILD_ID"))) return;
  const started = Date.now();
  const r = spawnSync(process.execPath, [path.join(webDir, "../../node_modules/next/dist/bin/next"), "build"], {
    cwd: webDir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`next build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  console.log(`[@azr/web] next build took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
