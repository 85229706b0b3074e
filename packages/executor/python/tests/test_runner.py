"""Unit tests of the executor runner's pure parts (static checks, value encoding) and of its
zygote protocol, run as a subprocess with an unprivileged uid (no sandbox: the sandboxes are
tested from TypeScript)."""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(os.path.dirname(HERE), "azr_runner.py")
sys.path.insert(0, os.path.dirname(HERE))

import azr_runner as R  # noqa: E402

def as_runner_uid(cmd):
    """Root runs the runner (and anything that acts on it as a peer) as uid 65534, like a sandbox."""
    if os.getuid() == 0:
        return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + cmd
    return cmd


STRICT = {"bannedModules": ["random", "os.path", "sys.exit"], "bannedCheck": "strict", "rejectInputCall": True}


class StaticCheckTests(unittest.TestCase):
    def status(self, program, checks, imports=()):
        try:
            R.static_check(program, checks, imports)
            return "ok"
        except R.CheckFailure as exc:
            return exc.status

    def test_single_def_counts_nested_defs_and_methods(self):
        rule = {"defRule": "single-def"}
        self.assertEqual(self.status("def f(x):\n    return x", rule), "ok")
        self.assertEqual(self.status("def f(x):\n    def g():\n        pass\n    return x", rule), "def-rule")
        self.assertEqual(self.status("x = 1", rule), "def-rule")

    def test_rename_rewrites_definition_and_recursive_calls(self):
        out = R.static_check("def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)", {"defRule": "single-def", "renameToF": True})
        self.assertEqual(out, "def f(n):\n    return 1 if n < 2 else n * f(n - 1)")

    def test_top_level_rule_prefers_f_and_renames_the_first_otherwise(self):
        out = R.static_check("def helper():\n    return 1\ndef main():\n    return helper()", {"defRule": "top-level-f", "renameToF": True})
        self.assertIn("def f():", out)
        self.assertEqual(self.status("class A:\n    def f(self):\n        pass", {"defRule": "top-level-f"}), "def-rule")

    def test_strict_banned_imports(self):
        for program in ("import random", "import random.x", "from random import choice", "from os import path",
                        "import os.path", "__import__('json')", "import importlib", "from importlib import import_module",
                        "from sys import exit"):
            self.assertEqual(self.status(program + "\ndef f():\n    return 1", STRICT), "banned-import", program)
        for program in ("import os", "from os import getcwd", "import randomness", "import sys"):
            self.assertEqual(self.status(program + "\ndef f():\n    return 1", STRICT), "ok", program)

    def test_reference_banned_imports_match_components_only(self):
        ref = dict(STRICT, bannedCheck="reference")
        self.assertEqual(self.status("import random\ndef f():\n    return 1", ref), "banned-import")
        self.assertEqual(self.status("from os import path\ndef f():\n    return 1", ref), "ok")
        self.assertEqual(self.status("__import__('random')\ndef f():\n    return 1", ref), "ok")
        self.assertEqual(self.status("def f(:\n    random", ref), "banned-import")

    def test_imports_are_checked_with_the_program(self):
        self.assertEqual(self.status("def f():\n    return 1", STRICT, imports=["import random"]), "banned-import")

    def test_syntax_and_input(self):
        self.assertEqual(self.status("def f(:", STRICT), "syntax")
        self.assertEqual(self.status("def f():\n    return input()", STRICT), "input-call")
        self.assertEqual(self.status("def f():\n    return my_input()", STRICT), "ok")
        self.assertEqual(self.status("def f():\n    return input()", dict(STRICT, rejectInputCall=False)), "ok")


class EncodeTests(unittest.TestCase):
    def enc(self, value, limit=1 << 20):
        return R.outcome_for_value(value, limit)

    def test_plain_values(self):
        self.assertEqual(self.enc(None)["value"], {"t": "none"})
        self.assertEqual(self.enc(True)["value"], {"t": "bool", "v": True})
        self.assertEqual(self.enc(-(10 ** 30))["value"], {"t": "int", "v": "-" + "1" + "0" * 30})
        self.assertEqual(self.enc(math.nan)["value"], {"t": "float", "v": "nan"})
        self.assertEqual(self.enc(b"\x00")["value"], {"t": "bytes", "v": "AA=="})
        self.assertEqual(self.enc({"b", "a"})["value"], {"t": "set", "v": [{"t": "str", "v": "a"}, {"t": "str", "v": "b"}]})
        self.assertEqual(self.enc({(1,): [2]})["value"]["v"][0][0], {"t": "tuple", "v": [{"t": "int", "v": "1"}]})

    def test_sets_serialise_independently_of_insertion_order(self):
        a = self.enc({"x", "yy", "zzz", 1, 2.5, (1, 2)})
        b = self.enc({(1, 2), 2.5, 1, "zzz", "yy", "x"})
        self.assertEqual(a, b)

    def test_not_plain_data(self):
        class Liar(str):
            def __eq__(self, other):
                return True
        self.assertEqual(self.enc(Liar("a"))["status"], "unserialisable")
        self.assertEqual(self.enc(object())["typeName"], "object")
        self.assertEqual(self.enc([1, {1j}])["status"], "unserialisable")
        loop = []
        loop.append(loop)
        self.assertEqual(self.enc(loop)["status"], "unserialisable")
        deep = []
        for _ in range(1000):
            deep = [deep]
        self.assertEqual(self.enc(deep)["status"], "unserialisable")

    def test_size_limit_without_building_huge_strings(self):
        self.assertEqual(self.enc("x" * 2000, limit=1000)["status"], "value-too-large")
        self.assertEqual(self.enc(2 ** (10 ** 7))["status"], "value-too-large")
        self.assertEqual(self.enc(10 ** 5000)["value"]["v"], "1" + "0" * 5000)  # beyond int_max_str_digits


class JobFilterTests(unittest.TestCase):
    def test_known_machines_only(self):
        self.assertIsNone(R.child_filter_program("sparc64"))
        for machine in ("x86_64", "aarch64"):
            code, self_at, neg_self_at = R.child_filter_program(machine)
            self.assertEqual(len(code) % 8, 0)
            self.assertEqual((len(self_at), len(neg_self_at)), (1, 1))
            self.assertNotEqual(code, R.child_filter_program("x86_64" if machine == "aarch64" else "aarch64")[0])

    def test_jumps_must_stay_in_range(self):
        with self.assertRaises(ValueError):
            R._assemble_bpf([("a", R._BPF_RET, 0, None, None), (None, R._BPF_JEQ, 0, "a", None)])

    def test_a_job_signals_only_itself_and_pid_1(self):
        # In a forked child under the filter: its own pid and group are fine, another is "gone".
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()  # as a job child does: its own process group
                R._prctl_hardening()
                R._make_filter_installer(R.child_filter_program())(os.getpid())
                seen = []
                for target in (os.getpid(), 0, -os.getpid(), os.getppid(), -1):
                    try:
                        os.kill(target, 0)
                        seen.append("ok")
                    except OSError as exc:
                        seen.append(type(exc).__name__)
                os.write(write_end, json.dumps(seen).encode())
            finally:
                os._exit(0)
        os.close(write_end)
        seen = json.loads(os.read(read_end, 1000))
        os.waitpid(pid, 0)
        self.assertEqual(seen, ["ok", "ok", "ok", "ProcessLookupError", "ProcessLookupError"])


class ZygoteProtocolTests(unittest.TestCase):
    """Drives the real zygote over its JSON-lines channel (forks included)."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="azr-runner-test-")
        os.chmod(self.dir, 0o777)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def command(self):
        runner = RUNNER
        if os.getuid() == 0:
            # uid 65534 may not reach the checkout (a clone under a 0700 directory): it gets a copy.
            where = tempfile.mkdtemp(prefix="azr-runner-src-")
            self.addCleanup(shutil.rmtree, where, True)
            os.chmod(where, 0o755)
            runner = shutil.copy(RUNNER, where)
            os.chmod(runner, 0o644)
        return as_runner_uid([sys.executable, "-s", "-S", "-P", runner]), {"AZR_RUNNER_WRITABLE": self.dir, "PYTHONHASHSEED": "0"}

    @staticmethod
    def frame(request):
        return "%010d\n%s" % (len(json.dumps(request)), json.dumps(request))

    def drive(self, requests, with_greeting=False):
        cmd, env = self.command()
        data = "".join(self.frame(r) for r in requests)
        out = subprocess.run(cmd, input=data, capture_output=True, text=True, env=env, timeout=60)
        lines = [json.loads(x) for x in out.stdout.splitlines()]
        self.assertTrue(lines and lines[0].get("ready"), out.stderr)
        return lines if with_greeting else lines[1:]

    def start(self):
        """The zygote as a process this test can reach (its pid) between requests."""
        cmd, env = self.command()
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.addCleanup(proc.kill)
        self.assertTrue(json.loads(proc.stdout.readline()).get("ready"))
        return proc

    def set_zygote_limit(self, proc, name, value):
        """prlimit on the zygote from a process of its own uid (root here may lack
        CAP_SYS_RESOURCE, so it goes through setpriv like the zygote itself)."""
        code = "import resource, sys; resource.prlimit(%d, resource.%s, (%d, %d))" % (proc.pid, name, value, value)
        subprocess.run(as_runner_uid([sys.executable, "-I", "-S", "-c", code]), check=True, timeout=30)

    def ask(self, proc, request):
        proc.stdin.write(self.frame(request))
        proc.stdin.flush()
        return json.loads(proc.stdout.readline())

    def test_jobs_cannot_act_on_the_zygote(self):
        # Without the job filter the first call leaves the zygote unable to fork (RLIMIT_NPROC 0).
        program = (
            "import os, resource\n"
            "def f(k):\n"
            "    if k == 0:\n"
            "        return resource.prlimit(os.getppid(), resource.RLIMIT_NPROC, (0, 0))\n"
            "    if k == 1:\n"
            "        return os.setpriority(os.PRIO_USER, 0, 19)\n"
            "    if k == 2:\n"
            "        return os.sched_setaffinity(os.getppid(), {0})\n"
            "    if k == 4:\n"
            "        import ctypes\n"
            "        if ctypes.CDLL(None, use_errno=True).shmget(4242, 4096, 0o1600) < 0:\n"
            "            raise OSError(ctypes.get_errno(), 'shmget')\n"
            "        return 'made a System V segment'\n"
            "    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))\n"
            "    return resource.getrlimit(resource.RLIMIT_NOFILE)"
        )
        lines = self.drive([
            {"id": "a", "kind": "run", "program": program, "calls": ["0", "1", "2", "3", "4"]},
            {"id": "b", "kind": "run", "program": "def f():\n    return 1", "calls": [""]},
        ], with_greeting=True)
        self.assertTrue(lines[0]["jobFilter"])
        a, b = lines[1:]
        self.assertEqual([c[0].get("errorType") for c in a["calls"][:3]], ["PermissionError"] * 3)
        self.assertEqual(a["calls"][3][0]["value"], {"t": "tuple", "v": [{"t": "int", "v": "32"}, {"t": "int", "v": "32"}]})
        self.assertEqual(a["calls"][4][0].get("errorType"), "PermissionError")
        self.assertEqual((b["status"], b["calls"][0][0]["value"]), ("ok", {"t": "int", "v": "1"}))

    def test_exits_when_it_cannot_fork(self):
        proc = self.start()
        self.set_zygote_limit(proc, "RLIMIT_NPROC", 0)
        res = self.ask(proc, {"id": "a", "kind": "run", "program": "def f():\n    return 1", "calls": [""]})
        self.assertEqual((res["status"], res["error"]["type"]), ("sandbox-failure", "RunnerUnfit"))
        self.assertEqual(proc.wait(timeout=30), 3)
        self.assertIn("fresh runner", proc.stderr.read())
        self.assertEqual(os.listdir(self.dir), [])

    def test_exits_after_its_own_limits_change(self):
        proc = self.start()
        self.assertEqual(self.ask(proc, {"id": "a", "kind": "run", "program": "def f():\n    return 1", "calls": [""]})["status"], "ok")
        self.set_zygote_limit(proc, "RLIMIT_NOFILE", 100)
        # The job still gets its answer; then the runner leaves rather than run more jobs so.
        self.assertEqual(self.ask(proc, {"id": "b", "kind": "run", "program": "def f():\n    return 2", "calls": [""]})["status"], "ok")
        self.assertEqual(proc.wait(timeout=30), 3)
        self.assertIn("resource limits", proc.stderr.read())

    def test_refuses_root(self):
        if os.getuid() != 0:
            self.skipTest("needs root to show the refusal")
        out = subprocess.run([sys.executable, "-s", "-S", "-P", RUNNER], input="", capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 2)
        self.assertIn("refusing to run as root", out.stderr)

    def test_jobs_statuses_and_cleanup(self):
        limits = {"timeoutMs": 800, "memoryMb": 256, "maxOutputBytes": 1000, "maxValueBytes": 10000}
        res = self.drive([
            {"id": "a", "kind": "run", "program": "def f(x):\n    open('t', 'w').write('1')\n    return x + 1", "calls": ["1", "'s'"], "repeat": 2, "limits": limits},
            {"id": "b", "kind": "run", "program": "def f():\n    while True: pass", "calls": [""], "limits": limits},
            {"id": "c", "kind": "run", "program": "def f():\n    print('x' * 5000)", "calls": [""], "limits": limits},
            {"id": "d", "kind": "check", "program": "import random\ndef f():\n    pass", "checks": STRICT},
            {"id": "e", "kind": "run", "program": "import os\ndef f():\n    return sorted(os.listdir('/'.join([os.environ['TMPDIR'], '..'])))", "calls": [""], "limits": limits},
            {"id": "f", "kind": "frobnicate"},
            {"id": "g", "kind": "run", "program": "def f(n):\n    return len(bytearray(n << 30))", "calls": ["0", "1", "0"], "limits": limits},
        ])
        self.assertEqual([r["status"] for r in res], ["ok", "timeout", "output-limit", "banned-import", "ok", "sandbox-failure", "memory"])
        self.assertEqual([c[0]["status"] for c in res[6]["calls"]], ["ok", "error", "not-run"])
        self.assertEqual(res[6]["calls"][1][0]["errorType"], "MemoryError")
        self.assertEqual(res[0]["calls"][0][0], {"status": "ok", "value": {"t": "int", "v": "2"}})
        self.assertEqual(res[0]["calls"][1][1]["errorType"], "TypeError")
        self.assertLess(res[1]["durationMs"], 1200)
        self.assertEqual(len(res[2]["stdout"]), 1000)
        # The earlier job's file is gone: only the fresh job directory exists.
        self.assertEqual(res[4]["calls"][0][0]["value"], {"t": "list", "v": [{"t": "str", "v": "job"}]})
        self.assertEqual(os.listdir(self.dir), [])


if __name__ == "__main__":
    unittest.main()
