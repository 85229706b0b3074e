import { cpSync, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DEMO_POLICY_DIR, DEMO_POLICY_MANIFEST, type DemoPolicyManifest } from "./build.ts";

// Finding the demo policy for a run: a build under the data directory wins; otherwise the build
// committed with this package is copied there (the worker only reads checkpoints under its data
// root).

/** The committed build (packages/demo/assets/demo-policy), if this checkout has one. */
export const DEMO_POLICY_ASSET_DIR = fileURLToPath(new URL("../assets/demo-policy", import.meta.url));

export function isCheckpointDir(dir: string): boolean {
  return existsSync(path.join(dir, "meta.json")) && existsSync(path.join(dir, "model.pt"));
}

export function readManifest(dir: string): DemoPolicyManifest | undefined {
  const file = path.join(dir, DEMO_POLICY_MANIFEST);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as DemoPolicyManifest) : undefined;
}

export interface DemoPolicyLocation {
  /** The checkpoint path relative to the data directory: pass it as `load({ checkpoint })`. */
  checkpoint: string;
  dir: string;
  source: "built" | "committed";
  manifest: DemoPolicyManifest | undefined;
}

/**
 * The demo policy under `dataDir` (`<dataDir>/demo-policy`), copying the committed build there if
 * none was built. Throws, naming the command that builds one, when there is neither.
 */
export function ensureDemoPolicy(dataDir: string, name: string = DEMO_POLICY_DIR): DemoPolicyLocation {
  const dir = path.resolve(dataDir, name);
  if (isCheckpointDir(dir)) return { checkpoint: name, dir, source: "built", manifest: readManifest(dir) };
  if (!isCheckpointDir(DEMO_POLICY_ASSET_DIR)) {
    throw new Error(`no demo policy: build one with \`npx tsx scripts/build-demo-policy.ts --out ${path.join(dataDir, name)}\``);
  }
  cpSync(DEMO_POLICY_ASSET_DIR, dir, { recursive: true });
  return { checkpoint: name, dir, source: "committed", manifest: readManifest(dir) };
}
