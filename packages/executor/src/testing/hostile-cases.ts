// Hostile and broken programs shared by the bwrap and Docker test suites and by the
// unprivileged-caller run. Each case states the exact status it must produce; `check` returns a
// description of every mismatch (empty when the result is right), so the same list works inside
// vitest and in a plain script.
import type { CallOutcome, ExecResult, PyValue, RunRequest } from "@azr/protocol";

export interface HostileContext {
  /** A host path the programs try to create; it must not exist afterwards. */
  hostMarker: string;
  /** A value placed in the pool process's environment; no program may see it. */
  envCanary: string;
  backend: "bwrap" | "docker";
}

export interface HostileCase {
  name: string;
  request: (ctx: HostileContext) => Omit<RunRequest, "id" | "kind">;
  check: (r: ExecResult, ctx: HostileContext) => string[];
}

const LIMIT_MS = 1000;
// Cases that must time out get a 1 s limit (and must end within 1.5 s). Every other case gets a
// generous limit, so that a loaded machine cannot turn its exact status into a timeout.
const limits = { timeoutMs: 8000, memoryMb: 256, maxOutputBytes: 64 * 1024, maxValueBytes: 1024 * 1024 };
const short = { ...limits, timeoutMs: LIMIT_MS };

function call(r: ExecResult, i = 0, k = 0): CallOutcome | undefined {
  return r.calls[i]?.[k];
}

function describe(r: ExecResult): string {
  return JSON.stringify({ status: r.status, error: r.error, calls: r.calls, stderr: r.stderr.slice(0, 300) }).slice(0, 800);
}

function status(expected: ExecResult["status"]) {
  return (r: ExecResult): string[] => (r.status === expected ? [] : [`status ${r.status}, expected ${expected}: ${describe(r)}`]);
}

function all(...checks: ((r: ExecResult, ctx: HostileContext) => string[])[]) {
  return (r: ExecResult, ctx: HostileContext): string[] => checks.flatMap((c) => c(r, ctx));
}

function jobError(type: string) {
  return (r: ExecResult): string[] => (r.error?.type === type ? [] : [`job error type ${r.error?.type}, expected ${type}: ${describe(r)}`]);
}

function callError(type: string, i = 0, k = 0) {
  return (r: ExecResult): string[] => {
    const c = call(r, i, k);
    return c?.status === "error" && c.errorType === type ? [] : [`call ${i}/${k} should fail with ${type}: ${describe(r)}`];
  };
}

function callStatus(s: CallOutcome["status"], i = 0, k = 0) {
  return (r: ExecResult): string[] => (call(r, i, k)?.status === s ? [] : [`call ${i}/${k} status should be ${s}: ${describe(r)}`]);
}

function callValue(expected: PyValue, i = 0, k = 0) {
  return (r: ExecResult): string[] => {
    const c = call(r, i, k);
    return c?.status === "ok" && JSON.stringify(c.value) === JSON.stringify(expected)
      ? []
      : [`call ${i}/${k} should return ${JSON.stringify(expected)}: ${describe(r)}`];
  };
}

function fastTimeout(r: ExecResult): string[] {
  return r.durationMs <= LIMIT_MS * 1.5 ? [] : [`timeout took ${r.durationMs} ms (limit ${LIMIT_MS} ms)`];
}

const str = (v: string): PyValue => ({ t: "str", v });
const int = (v: number | string): PyValue => ({ t: "int", v: String(v) });
const bool = (v: boolean): PyValue => ({ t: "bool", v });
const T: PyValue = bool(true);

function run(program: string, calls: string[] = [""], extra: Partial<Omit<RunRequest, "id" | "kind">> = {}) {
  return () => ({ program, calls, limits, ...extra });
}

function runShort(program: string, calls: string[] = [""]) {
  return run(program, calls, { limits: short });
}

export const HOSTILE_CASES: HostileCase[] = [
  // ---- time ----
  { name: "infinite loop", request: runShort("def f():\n    while True:\n        pass"), check: all(status("timeout"), callStatus("timeout"), fastTimeout) },
  {
    name: "infinite loop with signals ignored",
    request: runShort(
      "import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGXCPU, signal.SIGHUP, signal.SIGUSR1):\n    signal.signal(s, signal.SIG_IGN)\ndef f():\n    while True:\n        pass",
    ),
    check: all(status("timeout"), fastTimeout),
  },
  { name: "infinite loop while loading", request: runShort("while True:\n    pass\ndef f():\n    return 1"), check: all(status("timeout"), callStatus("not-run"), fastTimeout) },
  { name: "sleep forever", request: runShort("import time\ndef f():\n    time.sleep(3600)"), check: all(status("timeout"), fastTimeout) },
  {
    name: "stop itself with SIGSTOP",
    request: runShort("import os, signal\ndef f():\n    os.kill(os.getpid(), signal.SIGSTOP)\n    return 1"),
    check: all(status("timeout"), fastTimeout),
  },
  {
    name: "calls before a timeout keep their results",
    request: runShort("def f(x):\n    while x:\n        pass\n    return 7", ["0", "1", "0"]),
    check: all(status("timeout"), callValue(int(7), 0), callStatus("timeout", 1), callStatus("not-run", 2)),
  },
  // ---- processes ----
  { name: "fork bomb", request: run("import os\ndef f():\n    while True:\n        os.fork()"), check: all(status("ok"), callError("BlockingIOError")) },
  {
    name: "subprocess",
    request: run("import subprocess\ndef f():\n    return subprocess.run(['/bin/sh', '-c', 'echo hi'], capture_output=True).stdout"),
    check: all(status("ok"), (r) => (call(r)?.status === "error" ? [] : [`subprocess should fail: ${describe(r)}`])),
  },
  {
    name: "thread left running",
    request: run("import threading, time\ndef f():\n    threading.Thread(target=lambda: time.sleep(60), daemon=True).start()\n    return 1"),
    check: all(status("ok"), callError("RuntimeError")),
  },
  {
    name: "daemonised child (double fork)",
    request: run("import os\ndef f():\n    if os.fork() == 0:\n        os.setsid()\n        if os.fork() == 0:\n            import time; time.sleep(600)\n    return 1"),
    check: all(status("ok"), callError("BlockingIOError")),
  },
  // ---- memory ----
  { name: "memory bomb (list)", request: run("def f():\n    return [0] * (10 ** 9)"), check: all(status("memory"), callError("MemoryError")) },
  { name: "memory bomb (bytearray)", request: run("def f():\n    return bytearray(2 ** 34)"), check: status("memory") },
  {
    name: "memory growth while loading",
    // calloc'd chunks: the address-space limit stops it without touching (and paying for) pages
    request: run("chunks = []\nwhile True:\n    chunks.append(bytearray(32 << 20))\ndef f():\n    return 1"),
    check: all(status("memory"), callStatus("not-run")),
  },
  // ---- output ----
  {
    name: "100 MB of output",
    request: run("def f():\n    for _ in range(100):\n        print('x' * (1 << 20))"),
    check: all(status("output-limit"), (r) => (r.stdout.length <= 64 * 1024 ? [] : [`stdout not truncated: ${r.stdout.length}`])),
  },
  { name: "raw writes to fd 1", request: run("import os\ndef f():\n    while True:\n        os.write(1, b'y' * 65536)"), check: status("output-limit") },
  { name: "stderr flood", request: run("import sys\ndef f():\n    while True:\n        sys.stderr.write('e' * 4096)"), check: status("output-limit") },
  {
    name: "invalid utf-8 on stdout",
    request: run("import sys\ndef f():\n    sys.stdout.buffer.write(b'ok\\xff\\xfe')\n    sys.stdout.flush()\n    return 1"),
    check: all(status("ok"), (r) => (r.stdout.startsWith("ok") && r.stdout.includes("\ufffd") ? [] : [`stdout ${JSON.stringify(r.stdout)}`])),
  },
  // ---- stack and numbers ----
  { name: "deep recursion", request: run("def f(n=0):\n    return f(n + 1)"), check: all(status("ok"), callError("RecursionError")) },
  {
    name: "C-stack overflow",
    request: run(
      "import sys\nsys.setrecursionlimit(10 ** 7)\nclass A:\n    def __getattr__(self, name):\n        return getattr(self, name)\ndef f():\n    return A().x",
    ),
    check: all(status("error"), jobError("SIGSEGV"), callError("SIGSEGV")),
  },
  { name: "huge integer result", request: run("def f():\n    return 2 ** (10 ** 7)"), check: all(status("ok"), callStatus("value-too-large")) },
  { name: "huge integer to str", request: run("def f():\n    return str(10 ** 5000)"), check: all(status("ok"), callError("ValueError")) },
  { name: "big but allowed integer", request: run("def f():\n    return 10 ** 100"), check: all(status("ok"), callValue(int("1" + "0".repeat(100)))) },
  // ---- exits and signals ----
  { name: "sys.exit in f", request: run("import sys\ndef f():\n    sys.exit(3)"), check: all(status("ok"), callError("SystemExit")) },
  { name: "sys.exit while loading", request: run("import sys\nsys.exit(0)\ndef f():\n    return 1"), check: all(status("error"), jobError("SystemExit")) },
  { name: "os._exit", request: run("import os\ndef f():\n    os._exit(0)"), check: all(status("error"), jobError("ProcessExit")) },
  { name: "SIGKILL itself", request: run("import os, signal\ndef f():\n    os.kill(os.getpid(), signal.SIGKILL)"), check: all(status("error"), jobError("SIGKILL")) },
  {
    name: "signals aimed at the runner (PID 1)",
    request: run(
      "import os, signal\ndef f():\n    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGSTOP, signal.SIGKILL):\n        os.kill(1, s)\n    os.kill(os.getppid(), signal.SIGKILL)\n    return os.getppid()",
    ),
    check: all(status("ok"), callValue(int(1))),
  },
  {
    // kill(-1) reaches every process the job may signal except init and itself: there is none.
    name: "kill every process it can",
    request: run("import os, signal\ndef f():\n    os.kill(-1, signal.SIGKILL)\n    return 1"),
    check: all(status("ok"), callError("ProcessLookupError")),
  },
  { name: "segfault via ctypes", request: run("import ctypes\ndef f():\n    return ctypes.string_at(0)"), check: all(status("error"), jobError("SIGSEGV")) },
  // ---- reading the host ----
  {
    name: "read /etc/shadow",
    request: run("def f():\n    return open('/etc/shadow').read()"),
    check: all(status("ok"), (r) => (call(r)?.status === "error" ? [] : [`read /etc/shadow: ${describe(r)}`])),
  },
  {
    name: "read the runner's /proc entries",
    request: run(
      "def f():\n    out = []\n    for p in ('/proc/1/environ', '/proc/1/mem', '/proc/1/fd/0', '/proc/1/fd/1'):\n        try:\n            open(p, 'rb').read(1)\n            out.append(p)\n        except OSError:\n            pass\n    return out",
    ),
    check: all(status("ok"), callValue({ t: "list", v: [] })),
  },
  {
    name: "host environment",
    request: run("import os\ndef f():\n    return sorted(os.environ.items())"),
    check: all(status("ok"), (r, ctx) => (JSON.stringify(r.calls).includes(ctx.envCanary) ? ["the host environment leaked"] : [])),
  },
  {
    // Paths that exist only on the host. The Docker image has its own /etc and /root, so those
    // are only looked for under bwrap, whose sandbox has no /etc at all.
    name: "host file system",
    request: (ctx) => {
      const paths = ["/work", "/var/run/docker.sock", "/run/docker.sock", "/var/lib/docker", "/usr/local/bin/docker", "/proc/1/root/work"];
      if (ctx.backend === "bwrap") paths.push("/etc/passwd", "/root", "/home", "/usr/share", "/usr/local");
      return {
        program: `import os\ndef f():\n    return [p for p in ${JSON.stringify(paths)} if os.path.exists(p)]`,
        calls: [""],
        limits,
      };
    },
    check: all(status("ok"), callValue({ t: "list", v: [] })),
  },
  // ---- writing ----
  {
    name: "write outside the temp dir",
    request: (ctx) => ({
      program: `import os\ndef f():\n    made = []\n    for p in (${JSON.stringify(ctx.hostMarker)}, '/usr/azr-x', '/azr-x', '/dev/azr-x', '/dev/shm/azr-x', '/proc/azr-x'):\n        try:\n            open(p, 'w').write('x')\n            made.append(p)\n        except OSError:\n            pass\n    return made`,
      calls: [""],
      limits,
    }),
    check: (r, ctx) => {
      const c = call(r);
      if (r.status !== "ok" || c?.status !== "ok" || c.value.t !== "list") return [`unexpected: ${describe(r)}`];
      // The marker path may exist inside the sandbox's own /tmp (private); it must never reach the host.
      const made = c.value.v.map((v) => (v.t === "str" ? v.v : "?"));
      return made.filter((p) => p !== ctx.hostMarker).map((p) => `wrote ${p}`);
    },
  },
  {
    name: "file size limit",
    request: run("def f():\n    with open('big', 'wb') as fh:\n        for _ in range(200):\n            fh.write(b'z' * (1 << 20))"),
    check: all(status("ok"), callError("OSError")),
  },
  {
    name: "files written in the temp dir are private",
    request: run("import os\ndef f():\n    open('mine.txt', 'w').write('x')\n    return sorted(os.listdir('.')), os.getcwd() in __import__('sys').path"),
    check: all(status("ok"), callValue({ t: "tuple", v: [{ t: "list", v: [str("mine.txt")] }, bool(false_())] })),
  },
  // ---- network ----
  {
    name: "socket to a loopback service",
    request: run("import socket\ndef f():\n    s = socket.create_connection(('127.0.0.1', 5432), timeout=0.5)\n    return 1"),
    check: all(status("ok"), (r) => (call(r)?.status === "error" ? [] : [`connected: ${describe(r)}`])),
  },
  {
    name: "socket to the internet",
    request: run("import socket\ndef f():\n    s = socket.create_connection(('1.1.1.1', 80), timeout=0.5)\n    return 1"),
    check: all(status("ok"), (r) => (call(r)?.status === "error" ? [] : [`connected: ${describe(r)}`])),
  },
  // ---- limits and descriptors ----
  {
    name: "raise its own rlimits",
    request: run("import resource\ndef f():\n    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))"),
    check: all(status("ok"), callError("ValueError")),
  },
  {
    name: "raise NPROC",
    request: run("import resource\ndef f():\n    resource.setrlimit(resource.RLIMIT_NPROC, (100, 100))"),
    check: all(status("ok"), callError("ValueError")),
  },
  {
    // The zygote runs with the job's uid: prlimit64 on it would leave it unable to fork, so that
    // every later job on the runner failed. The job filter refuses pid-targeted calls.
    name: "lower the runner's rlimits",
    request: run("import resource\ndef f():\n    return resource.prlimit(1, resource.RLIMIT_NPROC, (0, 0))"),
    check: all(status("ok"), callError("PermissionError")),
  },
  {
    name: "renice or pin the runner",
    request: run(
      "import os\ndef f(k):\n    if k == 0:\n        os.setpriority(os.PRIO_USER, 0, 19)\n    elif k == 1:\n        os.setpriority(os.PRIO_PROCESS, 1, 19)\n    else:\n        os.sched_setaffinity(1, {0})",
      ["0", "1", "2"],
    ),
    check: all(status("ok"), callError("PermissionError", 0), callError("PermissionError", 1), callError("PermissionError", 2)),
  },
  {
    // A System V segment outlives its process: a later job on the runner could read it.
    name: "System V shared memory, semaphores and message queues",
    request: run(
      "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\ndef f(k):\n    made = (libc.shmget, libc.semget, libc.msgget)[k](4242 + k, *((4096, 0o1600), (1, 0o1600), (0o1600,))[k])\n    if made < 0:\n        raise OSError(ctypes.get_errno(), 'System V IPC')\n    return made",
      ["0", "1", "2"],
    ),
    check: all(status("ok"), callError("PermissionError", 0), callError("PermissionError", 1), callError("PermissionError", 2)),
  },
  {
    name: "its own limits, priority and CPUs stay its own to change",
    request: run(
      "import os, resource\ndef f():\n    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))\n    os.nice(1)\n    os.sched_setaffinity(0, os.sched_getaffinity(0))\n    return resource.getrlimit(resource.RLIMIT_NOFILE)",
    ),
    check: all(status("ok"), callValue({ t: "tuple", v: [int(32), int(32)] })),
  },
  {
    name: "write to every file descriptor",
    request: run("import os\ndef f():\n    for fd in range(1024):\n        try:\n            os.write(fd, b'garbage\\n')\n        except OSError:\n            pass\n    return 1"),
    check: all(status("error"), jobError("ResultChannelCorrupted")),
  },
  {
    name: "only its own descriptors are open",
    request: run("import os\ndef f():\n    return sorted(fd for fd in range(256) if _ok(fd))\ndef _ok(fd):\n    try:\n        os.fstat(fd)\n        return True\n    except OSError:\n        return False"),
    check: all(status("ok"), callValue({ t: "list", v: [int(0), int(1), int(2), int(3)] })),
  },
  {
    name: "kernel attack surface (unshare, ptrace)",
    request: run(
      "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\ndef f():\n    a = libc.unshare(0x10000000)\n    b = libc.ptrace(16, 1, 0, 0)\n    return a, b",
    ),
    check: all(status("ok"), callValue({ t: "tuple", v: [int(-1), int(-1)] })),
  },
  // ---- poisoning later jobs ----
  {
    name: "monkey-patch builtins and json in its own job",
    request: run(
      "import builtins, json\ndef f():\n    builtins.type = lambda *a: int\n    builtins.isinstance = lambda *a: True\n    builtins.len = lambda x: 0\n    json.dumps = lambda *a, **k: '\"forged\"'\n    return [1, 'a']",
    ),
    check: all(status("ok"), callValue({ t: "list", v: [int(1), str("a")] })),
  },
  {
    name: "plant modules for later jobs",
    request: run(
      "import sys, os\ndef f():\n    for d in ('/tmp', '.', '/usr/lib/python3.11'):\n        try:\n            open(os.path.join(d, 'json.py'), 'w').write('raise SystemExit')\n        except OSError:\n            pass\n    sys.modules['json'] = None\n    os.chmod('/tmp', 0)\n    return 1",
    ),
    check: status("ok"),
  },
  // ---- values ----
  {
    name: "results that are not plain data",
    request: run(
      "class Liar(int):\n    def __eq__(self, o):\n        return True\nclass C:\n    pass\ndef f(k):\n    return [object(), lambda: 1, Liar(1), C(), (x for x in []), 1j][k]",
      ["0", "1", "2", "3", "4", "5"],
    ),
    check: all(status("ok"), (r) =>
      r.calls.every((c) => c[0]?.status === "unserialisable") ? [] : [`all should be unserialisable: ${describe(r)}`],
    ),
  },
  {
    name: "self-referencing result",
    request: run("def f():\n    a = []\n    a.append(a)\n    return a"),
    check: all(status("ok"), callStatus("unserialisable")),
  },
  { name: "oversized result", request: run("def f():\n    return 'x' * (2 * 1024 * 1024)"), check: all(status("ok"), callStatus("value-too-large")) },
  { name: "input() at run time", request: run("def f():\n    return input()"), check: all(status("ok"), callError("EOFError")) },
  {
    name: "input() rejected by the static check",
    request: run("def f():\n    return input()", [""], { checks: { rejectInputCall: true } }),
    check: status("input-call"),
  },
  {
    name: "nondeterminism is reported, not hidden",
    request: run("def f():\n    return id(object()) ^ hash(str(object()))", [""], { repeat: 2 }),
    check: all(status("ok"), (r) => {
      const [a, b] = r.calls[0] ?? [];
      return a?.status === "ok" && b?.status === "ok" && JSON.stringify(a.value) !== JSON.stringify(b.value)
        ? []
        : [`expected two different values: ${describe(r)}`];
    }),
  },
  {
    name: "unicode and lone surrogates",
    request: run("def f(s):\n    return s + '\\ud800' + '\\U0001f389', s.encode('utf-8')", ["'h\\xe9llo'"]),
    check: all(status("ok"), callValue({ t: "tuple", v: [str("h\u00e9llo\ud800\u{1F389}"), { t: "bytes", v: Buffer.from("h\u00e9llo").toString("base64") }] })),
  },
  // ---- static failures ----
  { name: "syntax error", request: run("def f(:\n    return 1"), check: all(status("syntax"), callStatus("not-run")) },
  { name: "null byte in source", request: run("def f():\n    return '\0'\x00"), check: status("syntax") },
  { name: "deeply nested expression", request: run("x = " + "(".repeat(5000) + ")".repeat(5000) + "\ndef f():\n    return 1"), check: status("syntax") },
  {
    name: "banned import via __import__",
    request: run("def f():\n    return __import__('os').getpid()", [""], { checks: { bannedModules: ["os"], bannedCheck: "strict" } }),
    check: status("banned-import"),
  },
  { name: "no entry function", request: run("x = 1"), check: all(status("error"), jobError("NameError")) },
];

function false_(): boolean {
  return false;
}

/** A normal job whose result is fully known; run on every runner after the hostile ones. */
export const HEALTHY_REQUEST = {
  program: "import json\ndef f(a, b):\n    return {'sum': a + b, 'ok': len([1, 2]) == 2, 'j': json.dumps([a])}",
  calls: ["2, 3"],
  repeat: 2,
} satisfies Omit<RunRequest, "id" | "kind">;

export function checkHealthy(r: ExecResult): string[] {
  const expected: PyValue = {
    t: "dict",
    v: [
      [str("sum"), int(5)],
      [str("ok"), T],
      [str("j"), str("[2]")],
    ],
  };
  return all(status("ok"), callValue(expected, 0, 0), callValue(expected, 0, 1))(r, { hostMarker: "", envCanary: "", backend: "bwrap" });
}
