import { readFileSync } from "node:fs";
import type { ExecResult, PyValue } from "@azr/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BwrapBackend } from "./bwrap.ts";
import { ExecutorClosedError, ExecutorPool, ExecutorQueueFullError, ExecutorRequestError } from "./pool.ts";
import { buildSeccompFilter, DENIED_SYSCALLS_X86_64 } from "./seccomp.ts";
import { probeMemoryTraces } from "./testing/memory-trace-probe.ts";

const int = (v: number | string): PyValue => ({ t: "int", v: String(v) });
const str = (v: string): PyValue => ({ t: "str", v });

function values(r: ExecResult): (PyValue | string)[][] {
  return r.calls.map((row) => row.map((c) => (c.status === "ok" ? c.value : c.status)));
}

/** Host pid of the Python zygote inside a bwrap runner (the child of the bwrap process). */
function zygotePid(label: string): number {
  const bwrapPid = Number(/pid (\d+)/.exec(label)?.[1]);
  const children = readFileSync(`/proc/${bwrapPid}/task/${bwrapPid}/children`, "utf8").trim().split(/\s+/);
  return Number(children[0]);
}

describe("bwrap backend", () => {
  let pool: ExecutorPool;
  beforeAll(async () => {
    pool = await new ExecutorPool(new BwrapBackend(), { runners: 2 }).start();
  });
  afterAll(async () => {
    await pool?.close();
  });

  it("runs Debian's Python 3.11 with a fixed hash seed, as uid 65534 in PID 1", async () => {
    expect(pool.runtime?.python).toMatch(/^3\.11\./);
    expect(pool.runtime?.hashSeed).toBe("0");
    expect(pool.runtime?.uid).toBe(65534);
    expect(pool.runtime?.pid).toBe(1);
  });

  it("returns every plain Python type in the PyValue format", async () => {
    const r = await pool.run({
      id: "types",
      kind: "run",
      program:
        "def f():\n    return [None, True, -12345678901234567890, 1.5, -0.0, float('inf'), float('-inf'), float('nan'), 'é', b'\\x00\\xff', (1,), {2, 1}, frozenset({'b', 'a'}), {(1, 2): [3]}]",
      calls: [""],
    });
    expect(r.status).toBe("ok");
    expect(values(r)[0]![0]).toEqual({
      t: "list",
      v: [
        { t: "none" },
        { t: "bool", v: true },
        int("-12345678901234567890"),
        { t: "float", v: 1.5 },
        { t: "float", v: -0 },
        { t: "float", v: "inf" },
        { t: "float", v: "-inf" },
        { t: "float", v: "nan" },
        str("é"),
        { t: "bytes", v: "AP8=" },
        { t: "tuple", v: [int(1)] },
        { t: "set", v: [int(1), int(2)] },
        { t: "frozenset", v: [str("a"), str("b")] },
        { t: "dict", v: [[{ t: "tuple", v: [int(1), int(2)] }, { t: "list", v: [int(3)] }]] },
      ],
    });
  });

  it("calls f for each argument list K times, re-evaluating arguments each time", async () => {
    const r = await pool.run({
      id: "calls",
      kind: "run",
      program: "def f(xs, k=1):\n    xs.append(k)\n    return xs",
      calls: ["[1]", "[], k=5", "oops("],
      repeat: 2,
    });
    expect(r.status).toBe("ok");
    const v = values(r);
    expect(v[0]).toEqual([{ t: "list", v: [int(1), int(1)] }, { t: "list", v: [int(1), int(1)] }]);
    expect(v[1]).toEqual([{ t: "list", v: [int(5)] }, { t: "list", v: [int(5)] }]);
    expect(r.calls[2]![0]).toMatchObject({ status: "error", errorType: "SyntaxError" });
  });

  it("evaluates expression arguments in the program's namespace but only literals in literal mode", async () => {
    const program = "K = 10\ndef f(x):\n    return x * 2";
    const expr = await pool.run({ id: "e", kind: "run", program, calls: ["K + 1"] });
    expect(values(expr)[0]).toEqual([int(22)]);
    const lit = await pool.run({ id: "l", kind: "run", program, calls: ["K + 1", "(1, 'a')"], argsMode: "literal" });
    expect(lit.calls[0]![0]).toMatchObject({ status: "error", errorType: "ValueError" });
    expect(values(lit)[1]).toEqual([{ t: "tuple", v: [int(1), str("a"), int(1), str("a")] }]);
  });

  it("prepends imports, captures stdout and stderr, and uses the entry name", async () => {
    const r = await pool.run({
      id: "io",
      kind: "run",
      imports: ["from collections import Counter"],
      program: "import sys\ndef g(s):\n    print('out', s)\n    print('err', file=sys.stderr)\n    return dict(Counter(s))",
      entry: "g",
      calls: ["'aab'"],
    });
    expect(r.status).toBe("ok");
    expect(r.stdout).toBe("out aab\n");
    expect(r.stderr).toBe("err\n");
    expect(values(r)[0]).toEqual([{ t: "dict", v: [[str("a"), int(2)], [str("b"), int(1)]] }]);
  });

  it("applies static checks as configured: def rule, renaming, banned imports, input()", async () => {
    const checks = { defRule: "single-def" as const, renameToF: true, bannedModules: ["random", "os.path"], bannedCheck: "strict" as const };
    const renamed = await pool.run({ id: "r", kind: "run", program: "def fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)", calls: ["10"], checks });
    expect(renamed.status).toBe("ok");
    expect(renamed.program).toContain("def f(n)");
    expect(values(renamed)[0]).toEqual([int(55)]);

    const two = await pool.run({ id: "d", kind: "check", program: "def f():\n    def g():\n        pass\n    return 1", checks });
    expect(two).toMatchObject({ status: "def-rule", error: { type: "DefRule" } });
    const topLevel = await pool.run({ id: "t", kind: "check", program: "def h():\n    def g():\n        pass\n    return 1", checks: { defRule: "top-level-f", renameToF: true } });
    expect(topLevel.status).toBe("ok");
    expect(topLevel.program).toContain("def f()");

    // strict: dotted entries match module paths and from-imports; reference: only components.
    const fromImport = "from os import path\ndef f():\n    return 1";
    expect((await pool.run({ id: "s1", kind: "check", program: fromImport, checks })).status).toBe("banned-import");
    expect((await pool.run({ id: "s2", kind: "check", program: fromImport, checks: { ...checks, bannedCheck: "reference" } })).status).toBe("ok");
    expect((await pool.run({ id: "s3", kind: "check", program: "import random as r\ndef f():\n    return 1", checks: { ...checks, bannedCheck: "reference" } })).status).toBe(
      "banned-import",
    );
    expect((await pool.run({ id: "s4", kind: "check", program: "import importlib\ndef f():\n    return 1", checks })).status).toBe("banned-import");
    // reference mode falls back to a word search when the program does not parse
    expect((await pool.run({ id: "s5", kind: "check", program: "def f(:\n    random", checks: { ...checks, bannedCheck: "reference" } })).status).toBe(
      "banned-import",
    );
    expect((await pool.run({ id: "s6", kind: "check", program: "def f(:\n    random", checks })).status).toBe("syntax");
    expect((await pool.run({ id: "i", kind: "check", program: "def f():\n    return input( )", checks: {} })).status).toBe("input-call");
  });

  it("never shares a process between programs: state does not leak", async () => {
    const writer = "import builtins\nbuiltins.LEAK = 1\nopen('/tmp/leak', 'w').write('x')\ndef f():\n    return 1";
    const reader = "import os, builtins\ndef f():\n    return hasattr(builtins, 'LEAK'), os.path.exists('/tmp/leak'), os.listdir('/tmp')";
    await pool.runAll(Array.from({ length: 6 }, (_, i) => ({ id: `w${i}`, kind: "run" as const, program: writer, calls: [""] })));
    const results = await pool.runOnEveryRunner({ kind: "run", program: reader, calls: [""] });
    for (const r of results) {
      expect(values(r)[0]).toEqual([{ t: "tuple", v: [{ t: "bool", v: false }, { t: "bool", v: false }, { t: "list", v: [str("job")] }] }]);
    }
  });

  it("leaves a job no trace of earlier jobs (source, inputs, results) in the memory it inherits", async () => {
    const report = await probeMemoryTraces(pool);
    expect(report.earlier.map((r) => r.status)).toEqual(report.earlier.map(() => "ok"));
    expect(report.controlSeen).toEqual(report.controlSeen.map(() => true));
    expect(report.leaked).toEqual(report.leaked.map(() => []));
  });

  it("blocks system calls with its seccomp filter", async () => {
    const r = await pool.run({
      id: "seccomp",
      kind: "run",
      program: "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\ndef f():\n    rc = libc.syscall(135, 0xffffffff)\n    return rc, ctypes.get_errno()",
      calls: [""],
    });
    // personality(0xffffffff) only queries the persona; the filter answers EPERM.
    expect(values(r)[0]).toEqual([{ t: "tuple", v: [int(-1), int(1)] }]);
  });

  it("rejects bad requests and reports metrics", async () => {
    await expect(pool.run({ id: "", kind: "run", program: "x", calls: [] })).rejects.toBeInstanceOf(ExecutorRequestError);
    await expect(pool.run({ id: "x", kind: "run", program: "x", calls: [], limits: { timeoutMs: -1 } })).rejects.toThrow(/limits.timeoutMs/);
    const m = pool.metrics();
    expect(m.backend).toBe("bwrap");
    expect(m.runners).toMatchObject({ configured: 2, alive: 2 });
    expect(m.completed).toBeGreaterThan(10);
    expect(m.latencyMs.p50).toBeGreaterThan(0);
    expect(m.statuses.ok).toBeGreaterThan(0);
  });
});

describe("pool behaviour", () => {
  it("kills and replaces a hung runner (timeout enforced from TypeScript)", async () => {
    const pool = await new ExecutorPool(new BwrapBackend(), { runners: 1, graceMs: 300 }).start();
    try {
      const zygote = zygotePid(pool.runnerLabels()[0]!);
      process.kill(zygote, "SIGSTOP"); // the zygote can no longer enforce anything itself
      const started = performance.now();
      const r = await pool.run({ id: "hung", kind: "run", program: "def f():\n    return 1", calls: [""], limits: { timeoutMs: 500 } });
      expect(r.status).toBe("timeout");
      expect(r.error?.message).toMatch(/killed and replaced/);
      expect(performance.now() - started).toBeLessThan(1500);
      const ok = await pool.run({ id: "after", kind: "run", program: "def f():\n    return 2", calls: [""] });
      expect(values(ok)[0]).toEqual([int(2)]);
      expect(pool.metrics()).toMatchObject({ hungKilled: 1, restarts: 1 });
    } finally {
      await pool.close();
    }
  });

  it("restarts a crashed runner; a job on a runner that dies gets sandbox-failure", async () => {
    const pool = await new ExecutorPool(new BwrapBackend(), { runners: 1 }).start();
    try {
      const slow = pool.run({ id: "victim", kind: "run", program: "import time\ndef f():\n    time.sleep(2)", calls: [""] });
      await new Promise((r) => setTimeout(r, 200));
      process.kill(zygotePid(pool.runnerLabels()[0]!), "SIGKILL");
      const r = await slow;
      expect(r.status).toBe("sandbox-failure");
      const ok = await pool.run({ id: "after", kind: "run", program: "def f():\n    return 3", calls: [""] });
      expect(values(ok)[0]).toEqual([int(3)]);
      expect(pool.metrics().crashes).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it("applies backpressure, drains on close, and rejects work after close", async () => {
    const pool = await new ExecutorPool(new BwrapBackend(), { runners: 1, maxQueue: 3, pipelineDepth: 2 }).start();
    const job = (i: number) => pool.run({ id: `q${i}`, kind: "run", program: "import time\ndef f():\n    time.sleep(0.05)\n    return 1", calls: [""] });
    const accepted = [job(0), job(1), job(2), job(3), job(4)]; // two written to the runner, three queued
    await expect(job(5)).rejects.toBeInstanceOf(ExecutorQueueFullError);
    await pool.close({ drain: true });
    const results = await Promise.all(accepted);
    expect(results.map((r) => r.status)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    await expect(job(6)).rejects.toBeInstanceOf(ExecutorClosedError);
  });

  it("close without drain rejects queued jobs", async () => {
    const pool = await new ExecutorPool(new BwrapBackend(), { runners: 1 }).start();
    const running = pool.run({ id: "a", kind: "run", program: "import time\ndef f():\n    time.sleep(0.3)", calls: [""] });
    await new Promise((r) => setTimeout(r, 50));
    const queued = pool.run({ id: "b", kind: "run", program: "def f():\n    return 1", calls: [""] }).catch((e: unknown) => e);
    await pool.close({ drain: false });
    expect(await queued).toBeInstanceOf(ExecutorClosedError);
    expect((await running).status).toBe("sandbox-failure");
  });

  it("refuses to start when the sandbox cannot work, saying how to fix it", async () => {
    const pool = new ExecutorPool(new BwrapBackend({ bwrap: "/nonexistent/bwrap" }), { runners: 1 });
    await expect(pool.start()).rejects.toThrow(/apt-get install bubblewrap/);
  });
});

describe("seccomp filter", () => {
  it("is a well-formed sock_filter program that checks the architecture first", () => {
    const buf = buildSeccompFilter();
    expect(buf.length % 8).toBe(0);
    expect(buf.readUInt16LE(0)).toBe(0x20); // load arch
    expect(buf.readUInt32LE(4)).toBe(4);
    expect(buf.readUInt32LE(12)).toBe(0xc000003e);
    const n = buf.length / 8;
    expect(n).toBe(5 + Object.keys(DENIED_SYSCALLS_X86_64).length + 1 + 3);
    expect(buf.readUInt32LE((n - 3) * 8 + 4)).toBe(0x7fff0000); // allow by default
  });
});
