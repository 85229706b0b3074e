import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackend } from "./availability.ts";
import { BwrapBackend } from "./bwrap.ts";
import { DockerBackend } from "./docker.ts";
import { ExecutorPool } from "./pool.ts";
import { DEBIAN_DIST_PACKAGES, checkSystemModules } from "./system-modules.ts";
import { IMPORT_SYMPY_VIA_SYS_PATH } from "./testing/sympy-probe.ts";

// The scoring-only `systemModules` option: a closed allowlist, dist-packages bound (bwrap) or
// unhidden (Docker) only when it is set, and sympy really importable in the sandbox then — and
// not otherwise, even by a program that edits sys.path.

// Host uids of its own (when run as root), apart from the other suites' runners.
const UID_BASE = 2_000_105_000;

describe("systemModules option", () => {
  it("accepts only the reviewed modules", () => {
    expect(checkSystemModules(["sympy", "mpmath", "sympy"])).toEqual(["sympy", "mpmath"]);
    expect(checkSystemModules(undefined)).toEqual([]);
    expect(() => checkSystemModules(["numpy"])).toThrow(/not allowed/);
    expect(() => new BwrapBackend({ systemModules: ["os" as "sympy"] })).toThrow(/not allowed/);
  });

  it("binds dist-packages and sets the preload only for a scoring pool (bwrap command line)", async () => {
    const plain = new BwrapBackend();
    const scoring = createBackend("bwrap", { systemModules: ["sympy"] }) as BwrapBackend;
    await plain.prepare();
    await scoring.prepare();
    try {
      expect(plain.commandFor(0).join(" ")).not.toContain(DEBIAN_DIST_PACKAGES);
      const cmd = scoring.commandFor(0).join(" ");
      expect(cmd).toContain(`--ro-bind ${DEBIAN_DIST_PACKAGES} ${DEBIAN_DIST_PACKAGES}`);
      expect(cmd).toContain("--setenv AZR_RUNNER_PRELOAD sympy");
    } finally {
      await plain.close();
      await scoring.close();
    }
  });

  it("hides the image's dist-packages from Docker pools without it (container spec)", () => {
    const plain = new DockerBackend({ installationId: "test" }).containerSpec(0);
    const scoring = new DockerBackend({ installationId: "test", systemModules: ["sympy"] }).containerSpec(0);
    expect(plain.HostConfig?.Tmpfs?.[DEBIAN_DIST_PACKAGES]).toMatch(/^ro,/);
    expect(plain.Env?.some((e) => e.startsWith("AZR_RUNNER_PRELOAD="))).toBe(false);
    expect(scoring.HostConfig?.Tmpfs?.[DEBIAN_DIST_PACKAGES]).toBeUndefined();
    expect(scoring.Env).toContain("AZR_RUNNER_PRELOAD=sympy");
    expect(scoring.Env).toContain(`AZR_RUNNER_SYS_PATH=${DEBIAN_DIST_PACKAGES}`);
  });
});

describe("sympy in the bwrap sandbox", () => {
  let scoring: ExecutorPool;
  let plain: ExecutorPool;
  beforeAll(async () => {
    scoring = await new ExecutorPool(new BwrapBackend({ uidBase: UID_BASE, systemModules: ["sympy"] }), { runners: 1 }).start();
    plain = await new ExecutorPool(new BwrapBackend({ uidBase: UID_BASE + 10 }), { runners: 1 }).start();
  });
  afterAll(async () => {
    await scoring?.close();
    await plain?.close();
  });

  it("preloads sympy in a scoring pool's runners and decides an equivalence there", async () => {
    expect(scoring.runtime?.preloaded?.[0]).toMatch(/^sympy \d/);
    const r = await scoring.run({
      id: "eq",
      kind: "run",
      program: "import sympy\ndef f(a, b):\n    return sympy.simplify(sympy.sympify(a) - sympy.sympify(b)) == 0",
      calls: ["'x + 1', '1 + x'", "'x + 1', 'x + 2'"],
      limits: { memoryMb: 1024 },
    });
    expect(r.status).toBe("ok");
    expect(r.calls.map((c) => c[0])).toEqual([
      { status: "ok", value: { t: "bool", v: true } },
      { status: "ok", value: { t: "bool", v: false } },
    ]);
  });

  it("keeps sympy out of reach of an ordinary pool, even via sys.path", async () => {
    expect(plain.runtime?.preloaded).toBeUndefined();
    const r = await plain.run(IMPORT_SYMPY_VIA_SYS_PATH);
    expect(r.calls[0]?.[0]).toMatchObject({ status: "error", errorType: "ModuleNotFoundError" });
  });
});
