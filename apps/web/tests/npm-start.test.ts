import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { startServer } from "../../server/src/testing/server-process.ts";

// The README's first command serves the dashboard beside the API: the control-plane process
// (apps/server/src/main.ts, what `npm start` runs after setup) starts the production build made
// by the global setup, prints its URL, and stops it on shutdown.
it("the control-plane process serves the dashboard and prints where", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "azr-npm-start-web-"));
  const server = startServer(["--port", "0", "--web-port", "0", "--no-demo"], { DATABASE_URL: "", AZR_DATA_DIR: dataDir });
  try {
    const url = (await server.waitFor(/\[web\] dashboard on (http:\/\/[\d.]+:\d+)/, 90_000))[1]!;
    const signin = await fetch(`${url}/signin`);
    expect(signin.status).toBe(200);
    expect(await signin.text()).toContain("<html");
    const health = await fetch(`${url}/healthz`); // proxied to the API
    expect(await health.json()).toEqual({ status: "ok", database: "pglite" });
    expect(await server.stop()).toBe(0);
  } finally {
    server.child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 180_000);
