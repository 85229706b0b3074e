import { describe, expect, it } from "vitest";
import { SandboxUnavailableError } from "./backend.ts";
import { checkSandboxAvailability, createExecutor } from "./availability.ts";

describe("sandbox availability (what `doctor` reports)", () => {
  it("reports a working bwrap backend and explains how to fix a broken Docker one", async () => {
    const report = await checkSandboxAvailability({ docker: { image: "azr/executor:does-not-exist" } });
    const bwrap = report.backends.find((b) => b.name === "bwrap")!;
    const docker = report.backends.find((b) => b.name === "docker")!;
    expect(bwrap).toMatchObject({ available: true });
    expect(bwrap.detail).toMatch(/Python 3\.11/);
    expect(report.preferred).toBe("bwrap");
    expect(docker.available).toBe(false);
    expect(docker.fix).toMatch(/docker\.io|build\.sh/);
  });

  it("refuses to start without a working backend, saying how to install one (no unsandboxed mode)", async () => {
    const attempt = createExecutor({ backend: "auto", runners: 1, bwrap: { bwrap: "/nonexistent/bwrap" }, docker: { socketPath: "/nonexistent/docker.sock" } });
    await expect(attempt).rejects.toBeInstanceOf(SandboxUnavailableError);
    await expect(attempt).rejects.toThrow(/apt-get install bubblewrap/);
  });

  it("starts the embedded default", async () => {
    const pool = await createExecutor({ runners: 1 });
    try {
      expect(pool.backend.name).toBe("bwrap");
      const r = await pool.run({ id: "x", kind: "run", program: "def f():\n    return 'ok'", calls: [""] });
      expect(r.calls[0]?.[0]).toEqual({ status: "ok", value: { t: "str", v: "ok" } });
    } finally {
      await pool.close();
    }
  });
});
