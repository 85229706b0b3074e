import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseServerArgs } from "./options.ts";
import { LISTENING, startServer as startProcess, type NodeProcess } from "./testing/server-process.ts";

function startServer(args: string[], env: Record<string, string>) {
  const s = startProcess(args, { DATABASE_URL: "", ...env });
  const listening = s.waitFor(LISTENING).then((m) => m[1]!);
  listening.catch(() => {}); // observed by the tests that await it
  return { ...s, listening };
}

/** Sends `signal` and expects a clean exit; a failure shows how the server ended and what it printed. */
async function expectCleanStop(p: NodeProcess, signal: NodeJS.Signals) {
  p.child.kill(signal);
  const code = await p.exited;
  expect(code, `the server ended with ${code ?? p.child.signalCode} after ${signal}; it printed:\n${p.output().slice(-4000)}`).toBe(0);
}

describe("server options", () => {
  it("defaults to 127.0.0.1:4300 and reads AZR_PORT", () => {
    expect(parseServerArgs([], {})).toEqual({ help: false, options: { host: "127.0.0.1", port: 4300, demo: true, demoSteps: 20, web: true, webPort: 4301 } });
    expect(parseServerArgs([], { AZR_PORT: "5000", DATABASE_URL: "postgresql://x@y/z" })).toEqual({
      help: false,
      options: { host: "127.0.0.1", port: 5000, demo: false, demoSteps: 20, web: true, webPort: 4301 },
    });
    expect(parseServerArgs(["--no-demo"], {})).toMatchObject({ options: { demo: false } });
    expect(parseServerArgs(["--demo", "--demo-steps", "5"], { DATABASE_URL: "postgresql://x@y/z" })).toMatchObject({ options: { demo: true, demoSteps: 5 } });
  });
  it("names a bad option", () => {
    expect(() => parseServerArgs(["--port", "70000"])).toThrow("--port must be between 0 and 65535");
    expect(() => parseServerArgs(["--port", "abc"])).toThrow("--port must be a number");
    expect(() => parseServerArgs(["--bogus"])).toThrow(/bogus/);
    expect(() => parseServerArgs(["--demo-steps", "0"])).toThrow("--demo-steps must be between 1 and 100000");
  });
});

describe("npm start's server process on the embedded database", () => {
  it("migrates .azr/, serves /healthz, and shuts down cleanly on SIGTERM", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "azr-server-"));
    try {
      const s = startServer(["--port", "0", "--no-demo", "--no-web"], { AZR_DATA_DIR: dataDir });
      const url = await s.listening;
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ok", database: "pglite" });
      expect((await fetch(`${url}/nope`)).status).toBe(404);
      const prom = await fetch(`${url}/metrics`);
      expect(prom.headers.get("content-type")).toContain("text/plain");
      const text = await prom.text();
      expect(text).toContain('azr_runs{status="queued"} 0');
      expect(text).toContain('azr_queue_depth{pool="local"} 0');
      expect(text).toMatch(/azr_executor_runners\{state="alive"\} [1-9]/);
      expect(s.output()).toContain("applying migration");
      await expectCleanStop(s, "SIGTERM");
      expect(existsSync(path.join(dataDir, "lock"))).toBe(false);

      const again = startServer(["--port", "0", "--no-demo", "--no-web"], { AZR_DATA_DIR: dataDir });
      await again.listening;
      expect(again.output()).not.toContain("applying migration");
      await expectCleanStop(again, "SIGINT");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it("first start prints an admin token once; it works on the API, a worker token does not; AZR_ADMIN_TOKEN is honoured", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "azr-server-"));
    try {
      const s = startServer(["--port", "0", "--no-demo", "--no-web"], { AZR_DATA_DIR: dataDir, AZR_ADMIN_TOKEN: "" });
      const url = await s.listening;
      const token = /^\s+(azr_pat_\S+)$/m.exec(s.output())?.[1];
      expect(token).toBeDefined();
      const me = await fetch(`${url}/api/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
      expect(await me.json()).toMatchObject({ userName: "admin", scope: "admin" });
      expect((await fetch(`${url}/api/v1/runs`)).status).toBe(401);
      const worker = await fetch(`${url}/api/v1/runs`, { headers: { authorization: `Bearer azr_wkr_${"B".repeat(43)}` } });
      expect(worker.status).toBe(401);
      expect(((await worker.json()) as { error: { message: string } }).error.message).toBe("worker tokens are only valid on the worker endpoint");
      const doc = await fetch(`${url}/api/openapi.json`);
      expect(((await doc.json()) as { openapi: string }).openapi).toBe("3.1.0");
      await expectCleanStop(s, "SIGTERM");

      const preset = "azr_pat_" + "A".repeat(43);
      const again = startServer(["--port", "0", "--no-demo", "--no-web"], { AZR_DATA_DIR: dataDir, AZR_ADMIN_TOKEN: preset });
      const url2 = await again.listening;
      expect(again.output()).not.toMatch(/^\s+azr_pat_/m);
      expect(again.output()).toContain("registered AZR_ADMIN_TOKEN");
      expect((await fetch(`${url2}/api/v1/whoami`, { headers: { authorization: `Bearer ${preset}` } })).status).toBe(200);
      expect((await fetch(`${url2}/api/v1/whoami`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      await expectCleanStop(again, "SIGTERM");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it("exits with a one-line explanation for a malformed DATABASE_URL", async () => {
    const s = startServer(["--port", "0", "--no-demo", "--no-web"], { DATABASE_URL: "mysql://x@y/z" });
    expect(await s.exited).toBe(1);
    expect(s.output().trim()).toBe('error: DATABASE_URL uses the scheme "mysql"; only postgresql:// (or postgres://) is supported');
  }, 30_000);
});
