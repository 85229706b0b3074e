import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

// The README's first command serves the dashboard beside the API: the control-plane process
// (apps/server/src/main.ts, what `npm start` runs after setup) starts the production build made
// by the global setup, prints its URL, and stops it on shutdown.
const main = fileURLToPath(new URL("../../server/src/main.ts", import.meta.url));

it("the control-plane process serves the dashboard and prints where", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "azr-npm-start-web-"));
  const child = spawn(process.execPath, ["--import", "tsx", main, "--port", "0", "--web-port", "0", "--no-demo"], {
    env: { ...process.env, DATABASE_URL: "", AZR_DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  try {
    const t0 = Date.now();
    let url: string | undefined;
    while (!(url = /\[web\] dashboard on (http:\/\/[\d.]+:\d+)/.exec(out)?.[1])) {
      if (Date.now() - t0 > 90_000 || child.exitCode !== null) throw new Error(`no dashboard URL; the server said:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const signin = await fetch(`${url}/signin`);
    expect(signin.status).toBe(200);
    expect(await signin.text()).toContain("<html");
    const health = await fetch(`${url}/healthz`); // proxied to the API
    expect(await health.json()).toEqual({ status: "ok", database: "pglite" });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  } finally {
    child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 180_000);
