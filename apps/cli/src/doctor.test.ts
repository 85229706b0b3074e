import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkChromium, checkDatabase, checkNode, checkPython, formatDoctorReport, runDoctor } from "./doctor.ts";

describe("doctor", () => {
  it("finds what this machine has: Debian's python3 with torch, bwrap, a database", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "azr-doctor-"));
    try {
      const results = await runDoctor({
        python: "/usr/bin/python3",
        docker: "docker",
        chromium: "/usr/bin/chromium",
        nodeVersion: process.versions.node,
        database: { kind: "pglite", dataDir },
      });
      const byName = Object.fromEntries(results.map((r) => [r.name, r]));
      expect(byName["Node.js"]?.ok).toBe(true);
      expect(byName["PyTorch (python3-torch)"]).toMatchObject({ ok: true, detail: expect.stringMatching(/^torch \d/) });
      expect(byName["executor sandbox: bwrap"]).toMatchObject({ ok: true, required: true, detail: expect.stringMatching(/^Python 3\./) });
      expect(byName["executor sandbox: docker"]?.required).toBe(false);
      expect(byName["database"]).toMatchObject({ ok: true });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("names each missing part and the exact command that installs it", () => {
    const py = checkPython("/nonexistent/python3");
    expect(py.map((r) => [r.ok, r.fix])).toEqual([
      [false, "sudo apt-get install -y python3"],
      [false, "sudo apt-get install -y python3-torch libopenblas0-pthread"],
      [false, "sudo apt-get install -y python3-websockets"],
    ]);
    expect(checkChromium("/nonexistent/chromium")).toMatchObject({ ok: false, required: false, fix: "sudo apt-get install -y chromium" });
    expect(checkNode("18.19.0")).toMatchObject({ ok: false, detail: expect.stringContaining("needs >= 20.19") });
    const report = formatDoctorReport([...py, checkNode("20.20.2")]);
    expect(report).toContain("MISSING Debian python3");
    expect(report).toContain("fix: sudo apt-get install -y python3-torch libopenblas0-pthread");
    expect(report).toContain("3 required part(s) missing");
  });

  it("reports an unreachable PostgreSQL with the reason", async () => {
    const r = await checkDatabase({ kind: "postgres", url: "postgresql://postgres@127.0.0.1:1/azr", display: "postgresql://postgres@127.0.0.1:1/azr" });
    expect(r).toMatchObject({ ok: false, required: true });
    expect(r.detail).toMatch(/cannot connect to postgresql:\/\/postgres@127\.0\.0\.1:1\/azr/);
  });

  it("the azr CLI exits 0 with a report on this machine and 2 on an unknown command", () => {
    const bin = fileURLToPath(new URL("../bin/azr.js", import.meta.url));
    const ok = spawnSync(process.execPath, [bin, "doctor"], { encoding: "utf8", env: { ...process.env, DATABASE_URL: "", AZR_DATA_DIR: "/nonexistent-azr-dir" } });
    expect(ok.stdout).toContain("AZR doctor");
    expect(ok.status).toBe(0);
    const bad = spawnSync(process.execPath, [bin, "frobnicate"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
  }, 60_000);
});
