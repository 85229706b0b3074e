"""AZR executor runner: a long-lived zygote that runs untrusted Python programs.

It is started inside a sandbox (bubblewrap or a Docker container) as
``python3 -s -S -P -c <this file>`` with a cleared environment (see the TypeScript backends) and
speaks length-prefixed JSON requests in, JSON lines out, on fds 0/1 (or a Unix socket): the
protocol channel. After start-up it is two processes:

- the zygote, PID 1 of the sandbox: it only forks job children when asked and reaps them. It never
  reads a request or a result, so a job child, a copy of it, finds no trace of any other job in
  the memory it inherits (a program can read its own memory with ctypes);
- the supervisor, its first child: it holds the protocol channel and does all per-job work (a
  job directory, pipes, the time limit, collecting and assembling results, wiping).

Every job runs in a fresh child that closes every inherited descriptor except its own pipes,
and installs a seccomp filter that keeps it from acting on any other process, before any program
code runs: a job can neither read other requests nor forge responses nor disturb its runner.

Stdlib only. The zygote keeps its heap small and frozen (gc.freeze) so that fork is cheap, and
runs a sample job through the child's code path before its first fork, so that children find
what CPython builds lazily already built.
"""

import _json
import _socket
import ast
import binascii
import builtins
import gc
import io
import json
import math
import os
import re
import resource
import select
import signal
import sys
import time

PROTOCOL_VERSION = 1
MIB = 1024 * 1024
# Writable places of a sandbox. Everything in them is wiped after each job so nothing a job
# writes can reach a later one. Overridable for the runner's own unit tests.
WRITABLE_ROOTS = tuple(p for p in os.environ.get("AZR_RUNNER_WRITABLE", "/tmp").split(":") if p)
JOB_DIR_NAME = "job"
HASH_SEED = os.environ.get("PYTHONHASHSEED", "random")
GREET_ON_REQUEST = os.environ.get("AZR_RUNNER_GREETING") == "on-hello"
MAX_STD_CAPTURE_HARD = 16 * MIB
MAX_CONTAINER_DEPTH = 200
MAX_MESSAGE_CHARS = 2000

_SIGNAL_NAMES = {}
for _name in dir(signal):
    if _name.startswith("SIG") and not _name.startswith("SIG_") and isinstance(getattr(signal, _name), int):
        _SIGNAL_NAMES.setdefault(int(getattr(signal, _name)), _name)


# --------------------------------------------------------------------------------------------
# Static checks (azr-spec.md sections 2 and 9)
# --------------------------------------------------------------------------------------------

_DEF_LINE = re.compile(r"^\s*def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)
_INPUT_CALL = re.compile(r"(?<![\w.])input\s*\(")


class CheckFailure(Exception):
    def __init__(self, status, etype, message):
        Exception.__init__(self, message)
        self.status = status
        self.etype = etype
        self.message = message


def _short(text, limit=MAX_MESSAGE_CHARS, _str=str, _len=len):
    text = _str(text)
    return text if _len(text) <= limit else text[: limit // 2] + "..." + text[-limit // 2 :]


def _raise_unencodable(obj):
    raise TypeError("not JSON data")


def _make_json_dumps():
    """A JSON encoder built straight from the C accelerator. json.dumps and JSONEncoder.encode
    run Python code that looks up `isinstance` and friends in builtins at call time, so a
    program that rebinds them would break (or steer) the encoding of its own results."""
    encode = _json.make_encoder(None, _raise_unencodable, _json.encode_basestring_ascii, None, ":", ",", False, False, False)
    join = "".join

    def dumps(obj):
        return join(encode(obj, 0))

    return dumps


_json_dumps = _make_json_dumps()


def _rename_to_f(program, name):
    if name == "f":
        return program
    # The reference renames the definition and every `name(` call site (recursion) by regex.
    return re.sub(r"\b" + re.escape(name) + r"\s*\(", "f(", program)


def _syntax_failure(exc):
    msg = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    line = getattr(exc, "lineno", None)
    return CheckFailure("syntax", type(exc).__name__, _short("%s (line %s)" % (msg, line) if line else msg))


def _module_parts(name):
    return [p for p in (name or "").split(".") if p]


def _banned_reference(tree, source, banned):
    """The reference's check: Import/ImportFrom only, each dotted component compared to the list
    (so dotted list entries never match); on a syntax error, a word-boundary regex on the text."""
    if tree is None:
        for word in banned:
            if re.search(r"\b" + re.escape(word) + r"\b", source):
                return word
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                for word in banned:
                    if word in alias.name.split("."):
                        return word
            if isinstance(node, ast.ImportFrom) and node.module:
                for word in banned:
                    if word in node.module.split("."):
                        return word
    return None


def _banned_strict(tree, banned):
    """Imports of a banned module or any submodule (dotted entries match module paths and
    `from a import b` pairs), plus any use of `__import__` or `importlib`, which could load a
    banned module by a computed name."""
    banned_parts = [_module_parts(b) for b in banned]

    def hit(path):
        for word, parts in zip(banned, banned_parts):
            if parts and path[: len(parts)] == parts:
                return word
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                word = hit(_module_parts(alias.name))
                if word:
                    return word
                if _module_parts(alias.name)[:1] == ["importlib"]:
                    return "importlib"
        elif isinstance(node, ast.ImportFrom):
            base = _module_parts(node.module) if node.level == 0 else []
            if base[:1] == ["importlib"]:
                return "importlib"
            word = hit(base)
            if word:
                return word
            for alias in node.names:
                word = hit(base + _module_parts(alias.name))
                if word:
                    return word
        elif isinstance(node, ast.Name) and node.id in ("__import__", "importlib"):
            return node.id
        elif isinstance(node, ast.Attribute) and node.attr in ("__import__",):
            return node.attr
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in ("__import__",):
            return node.value
    return None


def static_check(program, checks, imports=()):
    """Returns the program after transforms, or raises CheckFailure with the job status."""
    checks = checks or {}
    def_rule = checks.get("defRule")
    rename = bool(checks.get("renameToF", False))
    banned = [b for b in checks.get("bannedModules", []) if b]
    mode = checks.get("bannedCheck", "strict")

    entry_name = None
    if def_rule == "single-def":
        names = _DEF_LINE.findall(program)
        if len(names) != 1:
            raise CheckFailure(
                "def-rule", "DefRule", "expected exactly one `def` line, found %d" % len(names)
            )
        entry_name = names[0]
    elif def_rule == "top-level-f":
        try:
            tree = ast.parse(program)
        except (SyntaxError, ValueError) as exc:
            raise _syntax_failure(exc)
        tops = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        if not tops:
            raise CheckFailure("def-rule", "DefRule", "no top-level function definition")
        entry_name = "f" if "f" in tops else tops[0]
    if rename:
        if entry_name is None:
            names = _DEF_LINE.findall(program)
            if not names:
                raise CheckFailure("def-rule", "DefRule", "no `def` to rename to f")
            entry_name = names[0]
        program = _rename_to_f(program, entry_name)

    full = "\n".join(list(imports) + [program]) if imports else program
    tree = None
    syntax_error = None
    try:
        tree = ast.parse(full)
    except (SyntaxError, ValueError) as exc:
        syntax_error = exc
    except (MemoryError, RecursionError) as exc:
        syntax_error = SyntaxError("program too deeply nested or too large: %s" % type(exc).__name__)

    if banned:
        if mode == "reference":
            word = _banned_reference(tree, full, banned)
        elif tree is None:
            word = None
        else:
            word = _banned_strict(tree, banned + ["importlib"])
        if word:
            raise CheckFailure("banned-import", "BannedImport", "banned module: %s" % word)
    if syntax_error is not None:
        raise _syntax_failure(syntax_error)
    if checks.get("rejectInputCall", True) and _INPUT_CALL.search(full):
        raise CheckFailure("input-call", "InputCall", "programs may not call input()")
    return program


# --------------------------------------------------------------------------------------------
# Plain-data serialisation into the PyValue format (packages/protocol/src/executor.ts)
# --------------------------------------------------------------------------------------------


class Unserialisable(Exception):
    def __init__(self, type_name):
        Exception.__init__(self, type_name)
        self.type_name = type_name


class TooLarge(Exception):
    pass


def _make_encoder():
    # Captured now so a program that rebinds builtins or json functions cannot change how its
    # results are encoded; exact type checks reject subclasses (which can lie about equality).
    _type = type
    _len = len
    _str = str
    _float_repr_ok = math.isfinite
    _isnan = math.isnan
    _b64 = binascii.b2a_base64
    _dumps = _json_dumps
    _id = id
    _sorted = sorted
    _NoneType = type(None)
    _bool, _int, _float, _bytes = bool, int, float, bytes
    _tuple, _list, _dict, _set, _frozenset = tuple, list, dict, set, frozenset
    _get_digits = getattr(sys, "get_int_max_str_digits", None)
    _set_digits = getattr(sys, "set_int_max_str_digits", None)

    def encode(value, max_bytes):
        budget = [max_bytes]
        active = set()

        def spend(n):
            budget[0] -= n
            if budget[0] < 0:
                raise TooLarge()

        def conv(x, depth):
            t = _type(x)
            if t is _NoneType:
                spend(10)
                return {"t": "none"}
            if t is _bool:
                spend(16)
                return {"t": "bool", "v": x}
            if t is _int:
                # ~0.302 decimal digits per bit: refuse before building a huge string.
                digits = x.bit_length() * 0.30103 + 2
                spend(int(digits) + 16)
                return {"t": "int", "v": _str(x)}
            if t is _float:
                spend(32)
                if _float_repr_ok(x):
                    return {"t": "float", "v": x}
                if _isnan(x):
                    return {"t": "float", "v": "nan"}
                return {"t": "float", "v": "inf" if x > 0 else "-inf"}
            if t is _str:
                spend(_len(x) + 16)
                return {"t": "str", "v": x}
            if t is _bytes:
                spend(_len(x) * 4 // 3 + 20)
                return {"t": "bytes", "v": _b64(x, newline=False).decode("ascii")}
            if t is _tuple or t is _list or t is _set or t is _frozenset or t is _dict:
                if depth >= MAX_CONTAINER_DEPTH:
                    raise Unserialisable("nesting deeper than %d" % MAX_CONTAINER_DEPTH)
                key = _id(x)
                if key in active:
                    raise Unserialisable("recursive " + t.__name__)
                active.add(key)
                spend(16)
                try:
                    if t is _dict:
                        items = [[conv(k, depth + 1), conv(v, depth + 1)] for k, v in x.items()]
                        return {"t": "dict", "v": items}
                    items = [conv(v, depth + 1) for v in x]
                    if t is _set or t is _frozenset:
                        # Iteration order of a set depends on hashing; sort so equal sets always
                        # serialise the same way.
                        items = _sorted(items, key=_dumps)
                    return {"t": t.__name__, "v": items}
                finally:
                    active.discard(key)
            try:
                name = t.__qualname__
                module = t.__module__
                if module not in ("builtins", None):
                    name = "%s.%s" % (module, name)
            except Exception:
                name = "?"
            raise Unserialisable(_str(name))

        old_digits = _get_digits() if _get_digits else None
        if _set_digits:
            _set_digits(0)
        try:
            tree = conv(value, 0)
            text = _dumps(tree)
        finally:
            if _set_digits and old_digits is not None:
                _set_digits(old_digits)
        if _len(text) > max_bytes:
            raise TooLarge()
        return tree, _len(text)

    return encode


encode_value = _make_encoder()


def outcome_for_value(value, max_bytes):
    try:
        tree, _ = encode_value(value, max_bytes)
        return {"status": "ok", "value": tree}
    except TooLarge:
        return {"status": "value-too-large", "bytes": max_bytes + 1}
    except Unserialisable as exc:
        return {"status": "unserialisable", "typeName": _short(exc.type_name, 200)}
    except RecursionError:
        return {"status": "unserialisable", "typeName": "nesting too deep"}


def _exception_outcome(exc, _type=type):
    try:
        etype = _type(exc).__name__
    except Exception:
        etype = "BaseException"
    try:
        message = _short(exc)
    except BaseException:  # a hostile __str__
        message = "<unprintable exception>"
    return {"status": "error", "errorType": _short(etype, 200), "message": message}


# --------------------------------------------------------------------------------------------
# The job child's seccomp filter: calls that reach past the job's own process
# --------------------------------------------------------------------------------------------
#
# A job runs with the runner's uid, so without this filter it could lower the zygote's own
# resource limits (prlimit64 on PID 1: RLIMIT_NPROC=0 and the zygote can never fork again, so
# every later job on that runner fails), renice it or every process of the uid (setpriority),
# pin it to one CPU or change its scheduling policy, or signal the supervisor (the one process
# of the sandbox that is not PID 1). The filter lets these calls act on the calling process
# only: pid 0 for the limit and scheduling calls (others fail with EPERM); the job itself, its
# own process group, or PID 1 (which ignores signals it has no handler for) for the signal calls
# (others fail with ESRCH, as if no such process existed). It also refuses System V IPC: a shared
# memory segment, semaphore set or message queue outlives the process that made it, so one job
# could leave data for the next. ptrace-like access is refused anyway because the runner's
# processes are non-dumpable. Both backends install this filter the same way.

_SECCOMP_DATA_NR, _SECCOMP_DATA_ARCH, _SECCOMP_DATA_ARG0, _SECCOMP_DATA_ARG1 = 0, 4, 16, 24
_SYSCALLS = {
    "x86_64": {
        "arch": 0xC000003E,
        # the first argument is a pid; only 0 (the caller) is allowed
        "own": {"prlimit64": 302, "sched_setaffinity": 203, "sched_setscheduler": 144, "sched_setparam": 142,
                "sched_setattr": 314},
        # the first argument is a pid or thread group: the caller or PID 1 (kill also: 0, -caller)
        "signal": {"kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
                   "pidfd_open": 434},
        "setpriority": 141,
        "ioprio_set": 251,
        # shmget shmat shmctl shmdt semget semop semctl semtimedop msgget msgsnd msgrcv msgctl
        "sysv": (29, 30, 31, 67, 64, 65, 66, 220, 68, 69, 70, 71),
    },
    "aarch64": {
        "arch": 0xC00000B7,
        "own": {"prlimit64": 261, "sched_setaffinity": 122, "sched_setscheduler": 119, "sched_setparam": 118,
                "sched_setattr": 274},
        "signal": {"kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240,
                   "pidfd_open": 434},
        "setpriority": 140,
        "ioprio_set": 30,
        "sysv": (194, 196, 195, 197, 190, 193, 191, 192, 186, 189, 188, 187),
    },
}
_RET_ALLOW, _RET_EPERM, _RET_ESRCH, _RET_KILL = 0x7FFF0000, 0x00050001, 0x00050003, 0x80000000
_BPF_LD_ABS, _BPF_JEQ, _BPF_JGT, _BPF_JSET, _BPF_RET = 0x20, 0x15, 0x25, 0x45, 0x06
_X32_SYSCALL_BIT = 0x40000000
# Stand-ins for the job's own pid and its negation (its process group), written into each
# child's copy of the filter just before it is installed.
_SELF, _NEG_SELF = "self", "-self"


def _assemble_bpf(program):
    """program: (label or None, opcode, k, jump-if-true label, jump-if-false label) rows; jumps
    are forward only, as classic BPF requires; k may be _SELF or _NEG_SELF. Returns the struct
    sock_filter[] bytes (placeholders as 0) and the indexes of the _SELF and _NEG_SELF rows."""
    import struct

    where = {row[0]: i for i, row in enumerate(program) if row[0]}
    out, self_at, neg_self_at = [], [], []
    for i, (_label, code, k, jt, jf) in enumerate(program):
        offsets = [(where[t] - i - 1) if t else 0 for t in (jt, jf)]
        if any(o < 0 or o > 255 for o in offsets):
            raise ValueError("seccomp filter jump out of range")
        if k == _SELF:
            self_at.append(i)
        elif k == _NEG_SELF:
            neg_self_at.append(i)
        out.append(struct.pack("<HBBI", code, offsets[0], offsets[1], k if isinstance(k, int) else 0))
    return b"".join(out), tuple(self_at), tuple(neg_self_at)


def child_filter_program(machine=None):
    """(filter bytes, rows to patch with the pid, rows to patch with -pid) for this machine, or
    None where its system call numbers are unknown."""
    spec = _SYSCALLS.get(machine or os.uname().machine)
    if spec is None:
        return None
    rows = [
        (None, _BPF_LD_ABS, _SECCOMP_DATA_ARCH, None, None),
        # A foreign ABI (int 0x80, x32) would reach these calls under other numbers.
        (None, _BPF_JEQ, spec["arch"], None, "kill"),
        (None, _BPF_LD_ABS, _SECCOMP_DATA_NR, None, None),
        (None, _BPF_JSET, _X32_SYSCALL_BIT, "kill", None),
        (None, _BPF_JEQ, spec["signal"]["kill"], "kill-target", None),
    ]
    rows += [(None, _BPF_JEQ, nr, "signal-target", None) for name, nr in spec["signal"].items() if name != "kill"]
    rows += [(None, _BPF_JEQ, nr, "own-pid", None) for nr in spec["own"].values()]
    rows += [(None, _BPF_JEQ, nr, "deny", None) for nr in spec["sysv"]]
    rows += [
        (None, _BPF_JEQ, spec["setpriority"], "setpriority", None),
        (None, _BPF_JEQ, spec["ioprio_set"], "ioprio", None),
        (None, _BPF_RET, _RET_ALLOW, None, None),
        # pid_t and int arguments: the kernel reads the low 32 bits (little-endian: first word).
        # kill(0) and kill(-pid) signal the job's own process group, which holds only the job.
        ("kill-target", _BPF_LD_ABS, _SECCOMP_DATA_ARG0, None, None),
        (None, _BPF_JEQ, 0, "allow", None),
        (None, _BPF_JEQ, _NEG_SELF, "allow", None),
        ("signal-target", _BPF_LD_ABS, _SECCOMP_DATA_ARG0, None, None),
        (None, _BPF_JEQ, _SELF, "allow", None),
        (None, _BPF_JEQ, 1, "allow", "no-such-process"),
        ("own-pid", _BPF_LD_ABS, _SECCOMP_DATA_ARG0, None, None),
        (None, _BPF_JEQ, 0, "allow", "deny"),
        # setpriority(which, who): PRIO_PROCESS (0) or PRIO_PGRP (1) of the caller (who = 0).
        ("setpriority", _BPF_LD_ABS, _SECCOMP_DATA_ARG0, None, None),
        (None, _BPF_JGT, 1, "deny", "who"),
        # ioprio_set(which, who): IOPRIO_WHO_PROCESS (1) or IOPRIO_WHO_PGRP (2) of the caller.
        ("ioprio", _BPF_LD_ABS, _SECCOMP_DATA_ARG0, None, None),
        (None, _BPF_JEQ, 1, "who", None),
        (None, _BPF_JEQ, 2, "who", "deny"),
        ("who", _BPF_LD_ABS, _SECCOMP_DATA_ARG1, None, None),
        (None, _BPF_JEQ, 0, "allow", "deny"),
        ("allow", _BPF_RET, _RET_ALLOW, None, None),
        ("deny", _BPF_RET, _RET_EPERM, None, None),
        ("no-such-process", _BPF_RET, _RET_ESRCH, None, None),
        ("kill", _BPF_RET, _RET_KILL, None, None),
    ]
    return _assemble_bpf(rows)


def _make_filter_installer(program):
    """Prepares, in the zygote, everything a job child needs to install the filter: its own pid
    written into its copy, then one prctl call. None when there is no filter."""
    if program is None:
        return None
    import ctypes
    import struct

    code, self_at, neg_self_at = program

    class _SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = _SockFprog(len(code) // 8, ctypes.addressof(buffer))
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.restype = ctypes.c_int
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    pointer = ctypes.addressof(fprog)
    pack_into = struct.pack_into
    get_errno = ctypes.get_errno

    def install(pid, _keep=fprog):
        for i in self_at:
            pack_into("<I", buffer, i * 8 + 4, pid)
        for i in neg_self_at:
            pack_into("<I", buffer, i * 8 + 4, (-pid) & 0xFFFFFFFF)
        # PR_SET_SECCOMP, SECCOMP_MODE_FILTER; allowed because the runner set no_new_privs.
        if prctl(22, 2, pointer, 0, 0) != 0:
            raise OSError(get_errno(), "cannot install the job seccomp filter")

    return install


_install_child_filter = None  # set by main() once no_new_privs is on


# --------------------------------------------------------------------------------------------
# The forked child: everything below runs in a process that is thrown away after the job.
# --------------------------------------------------------------------------------------------

RESULT_FD = 3


def _child_setup(out_w, err_w, res_w, job_dir, limits):
    os.setsid()
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    os.dup2(res_w, RESULT_FD)
    # Closes the protocol channel copies and every other inherited descriptor.
    os.closerange(RESULT_FD + 1, 1 << 16)
    mem = int(limits.get("memoryMb", 512)) * MIB
    cpu = max(1, int(math.ceil(limits.get("timeoutMs", 10000) / 1000.0)) + 1)
    file_limit = max(int(limits.get("maxOutputBytes", 65536)), 8 * MIB)
    setr = resource.setrlimit
    setr(resource.RLIMIT_AS, (mem, mem))
    setr(resource.RLIMIT_CPU, (cpu, cpu + 1))
    setr(resource.RLIMIT_FSIZE, (file_limit, file_limit))
    setr(resource.RLIMIT_CORE, (0, 0))
    setr(resource.RLIMIT_NOFILE, (64, 64))
    # No new processes or threads at all: the child is the only process of its uid it may have.
    setr(resource.RLIMIT_NPROC, (0, 0))
    if hasattr(resource, "RLIMIT_MEMLOCK"):
        setr(resource.RLIMIT_MEMLOCK, (0, 0))
    if hasattr(resource, "RLIMIT_MSGQUEUE"):
        setr(resource.RLIMIT_MSGQUEUE, (0, 0))
    os.chdir(job_dir)
    if _install_child_filter is not None:
        _install_child_filter(os.getpid())
    # sys.stdin/stdout/stderr, the environment and signal dispositions were prepared once by
    # the zygote (see _prepare_zygote): the zygote never buffers data in those stream objects,
    # so after the dup2s above they read /dev/null and write into the capture pipes. Doing it
    # here instead would dirty a hundred more copy-on-write pages per fork.
    gc.enable()


def _make_emitter():
    _write = os.write
    _dumps = _json_dumps
    _memoryview = memoryview

    def emit(msg):
        data = (_dumps(msg) + "\n").encode("ascii")
        view = _memoryview(data)
        while view:
            n = _write(RESULT_FD, view)
            view = view[n:]

    return emit


_emit = _make_emitter()


def _flush_std():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


class _Pack:
    """Collects positional and keyword arguments of one call without touching the program's
    namespace."""

    __slots__ = ()

    def __call__(self, *args, **kwargs):
        return args, kwargs


def _literal_args(text):
    tree = ast.parse("__azr_pack__(" + text + "\n)", mode="eval")
    call = tree.body
    if not isinstance(call, ast.Call) or any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords
    ):
        raise ValueError("arguments must be plain Python literals")
    arg_nodes = list(call.args)
    kw_nodes = [(k.arg, k.value) for k in call.keywords]

    def build():
        return (
            tuple(ast.literal_eval(n) for n in arg_nodes),
            {name: ast.literal_eval(n) for name, n in kw_nodes},
        )

    build()  # reject non-literals before the first call
    return build


def _expression_args(text, namespace):
    code = compile("__azr_pack__(" + text + "\n)", "<arguments>", "eval")
    pack = _Pack()
    _eval = eval

    def build():
        return _eval(code, namespace, {"__azr_pack__": pack})

    return build


def _run_child(req):
    """Runs in the forked child. Writes result lines to RESULT_FD and never returns."""
    emit = _emit
    limits = req.get("limits") or {}
    max_value = int(limits.get("maxValueBytes", MIB))
    try:
        program = req.get("program", "")
        imports = list(req.get("imports") or [])
        checks = req.get("checks")
        if checks is not None:
            try:
                program = static_check(program, checks, imports)
            except CheckFailure as exc:
                emit({"k": "load", "status": exc.status, "error": {"type": exc.etype, "message": exc.message},
                      "program": program})
                return
        if req.get("kind") == "check":
            emit({"k": "load", "status": "ok", "program": program})
            return
        source = "\n".join(imports + [program]) if imports else program
        try:
            code = compile(source, "<program>", "exec")
        except (SyntaxError, ValueError) as exc:
            failure = _syntax_failure(exc)
            emit({"k": "load", "status": "syntax", "error": {"type": failure.etype, "message": failure.message}})
            return
        except (MemoryError, RecursionError) as exc:
            emit({"k": "load", "status": "syntax",
                  "error": {"type": type(exc).__name__, "message": "program too large or too deeply nested to compile"}})
            return
        namespace = {"__name__": "__program__", "__builtins__": builtins}
        try:
            exec(code, namespace)
        except MemoryError:
            emit({"k": "load", "status": "memory", "error": {"type": "MemoryError", "message": "memory limit reached while loading the program"}})
            return
        except BaseException as exc:
            out = _exception_outcome(exc)
            emit({"k": "load", "status": "error", "error": {"type": out["errorType"], "message": out["message"]}})
            return
        entry = req.get("entry", "f")
        func = namespace.get(entry)
        if not callable(func):
            emit({"k": "load", "status": "error",
                  "error": {"type": "NameError", "message": "the program defines no callable %r" % entry}})
            return
        # The transformed program is echoed only when static checks ran (it may have been renamed).
        emit({"k": "load", "status": "ok", "program": program} if checks is not None else {"k": "load", "status": "ok"})
        literal = req.get("argsMode", "expression") == "literal"
        repeat = int(req.get("repeat", 1))
        for i, text in enumerate(req.get("calls") or []):
            try:
                build = _literal_args(text) if literal else _expression_args(text, namespace)
            except MemoryError:
                emit({"k": "memory", "i": i, "r": 0})
                return
            except BaseException as exc:
                bad = _exception_outcome(exc)
                for r in range(repeat):
                    emit({"k": "call", "i": i, "r": r, "o": bad})
                continue
            for r in range(repeat):
                try:
                    args, kwargs = build()
                    value = func(*args, **kwargs)
                    outcome = outcome_for_value(value, max_value)
                except MemoryError:
                    emit({"k": "memory", "i": i, "r": r})
                    return
                except BaseException as exc:
                    outcome = _exception_outcome(exc)
                emit({"k": "call", "i": i, "r": r, "o": outcome})
    finally:
        _flush_std()
        try:
            emit({"k": "done"})
        except BaseException:
            pass


def _child_main(req, out_w, err_w, res_w, job_dir):
    code = 0
    try:
        _child_setup(out_w, err_w, res_w, job_dir, req.get("limits") or {})
        _run_child(req)
    except BaseException:
        code = 70
    finally:
        os._exit(code)


# --------------------------------------------------------------------------------------------
# The zygote
# --------------------------------------------------------------------------------------------


def _wipe(path, keep_root=True):
    """Removes everything below `path` (a writable root of the sandbox). A job may have made
    directories unreadable, so permissions are restored on the way down."""
    try:
        entries = list(os.scandir(path))
    except PermissionError:
        os.chmod(path, 0o700)
        entries = list(os.scandir(path))
    except FileNotFoundError:
        return
    for entry in entries:
        full = entry.path
        try:
            if entry.is_dir(follow_symlinks=False):
                try:
                    os.chmod(full, 0o700)
                except OSError:
                    pass
                _wipe(full, keep_root=False)
            else:
                os.unlink(full)
        except FileNotFoundError:
            pass
    if not keep_root:
        os.rmdir(path)


def _read_available(fd, buf, cap):
    """Reads what is there; returns (eof, over_cap)."""
    try:
        data = os.read(fd, 1 << 16)
    except BlockingIOError:
        return False, False
    except OSError:
        return True, False
    if not data:
        return True, False
    buf.append(data)
    return False, sum(len(b) for b in buf) > cap


class RunnerUnfit(Exception):
    """The zygote can no longer run jobs as it should (it cannot fork, or its own limits were
    changed): it answers the job with a sandbox-failure and exits, so the pool starts a fresh
    runner instead of failing every later job on this one."""


_LIMITED = tuple(getattr(resource, n) for n in (
    "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK",
    "RLIMIT_CORE", "RLIMIT_MEMLOCK") if hasattr(resource, n))


def own_limits(pid=None):
    """Resource limits of this process, or of `pid` (the zygote, as the supervisor sees it)."""
    if pid is None:
        return tuple(resource.getrlimit(r) for r in _LIMITED)
    return tuple(resource.prlimit(pid, r) for r in _LIMITED)


class ForkServer:
    """The supervisor's link to the zygote (PID 1), which forks every job child: a
    SOCK_SEQPACKET pair. Requests are `F` with the job's four pipe ends attached; answers are
    `P<pid>` once forked, `X<wait status>` once the zygote has reaped it, or `E<why>`."""

    def __init__(self, sock, pid):
        self.sock = sock
        self.pid = pid

    def fileno(self):
        return self.sock.fileno()

    def _answer(self, expected):
        reply = self.sock.recv(4096)
        if not reply:
            raise RunnerUnfit("the zygote (PID 1) is gone")
        if reply[:1] == b"E":
            raise RunnerUnfit("cannot fork a job process: %s" % reply[1:].decode("utf-8", "replace"))
        if reply[:1] != expected:
            raise RunnerUnfit("unexpected answer from the zygote: %r" % reply[:40])
        return int(reply[1:])

    def request_fork(self, fds):
        self.sock.sendmsg([b"F"], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS,
                                    b"".join(fd.to_bytes(4, sys.byteorder) for fd in fds))])

    def forked_pid(self):
        return self._answer(b"P")

    def exit_status(self):
        return self._answer(b"X")


def _kill_job(pid):
    # The group catches anything the job started (it cannot: RLIMIT_NPROC is 0); the pid itself
    # catches a child killed before its setsid.
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _send_request(fd, raw):
    try:
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view):]
    except BrokenPipeError:
        pass  # the child died before reading it all; its status says so
    finally:
        os.close(fd)


def run_job(req, raw, forks):
    """Has the zygote fork a child for one request (`raw`, the request's JSON, goes to the child
    through a pipe) and collects its result. Never raises for a bad program."""
    started = time.monotonic()
    limits = req.get("limits") or {}
    timeout_s = float(limits.get("timeoutMs", 10000)) / 1000.0
    max_out = min(int(limits.get("maxOutputBytes", 65536)), MAX_STD_CAPTURE_HARD)
    n_calls = len(req.get("calls") or [])
    repeat = int(req.get("repeat", 1))
    # The child checks each value against maxValueBytes; this only bounds a hostile child.
    max_result = 64 * MIB + n_calls * repeat * (int(limits.get("maxValueBytes", MIB)) + 4096)

    job_dir = os.path.join(WRITABLE_ROOTS[0], JOB_DIR_NAME)
    os.mkdir(job_dir, 0o700)
    req_r, req_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    res_r, res_w = os.pipe()
    child_ends = (req_r, out_w, err_w, res_w)
    try:
        forks.request_fork(child_ends)
    except BaseException:
        for fd in (req_w, out_r, err_r, res_r):
            os.close(fd)
        os.rmdir(job_dir)
        raise
    finally:
        for fd in child_ends:
            os.close(fd)
    # Written while the zygote forks (the child reads it from the pipe), not after.
    _send_request(req_w, raw)
    try:
        pid = forks.forked_pid()
    except BaseException:
        for fd in (out_r, err_r, res_r):
            os.close(fd)
        os.rmdir(job_dir)
        raise

    bufs = {out_r: [], err_r: [], res_r: []}
    caps = {out_r: max_out, err_r: max_out, res_r: max_result}
    open_fds = set(bufs)
    poller = select.poll()
    for fd in open_fds:
        os.set_blocking(fd, False)
        poller.register(fd, select.POLLIN)
    zygote = forks.fileno()
    poller.register(zygote, select.POLLIN)
    deadline = started + timeout_s
    timed_out = False
    over = None
    wait_status = None
    while open_fds or wait_status is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        for fd, _ev in poller.poll(max(1, int(remaining * 1000))):
            if fd == zygote:
                poller.unregister(zygote)
                wait_status = forks.exit_status()
                continue
            eof, over_cap = _read_available(fd, bufs[fd], caps[fd])
            if over_cap:
                over = "result" if fd == res_r else "output"
            if eof:
                poller.unregister(fd)
                open_fds.discard(fd)
        if over:
            break
    # Kill the whole process group whatever happened: nothing may outlive the job.
    _kill_job(pid)
    if wait_status is None:
        wait_status = forks.exit_status()
    for fd in open_fds:
        # Drain what a killed child left in its pipes (calls that finished before the timeout).
        while True:
            eof, _ = _read_available(fd, bufs[fd], caps[fd] + (1 << 16))
            if eof or not select.select([fd], [], [], 0)[0]:
                break
    for fd in (out_r, err_r, res_r):
        os.close(fd)
    for root in WRITABLE_ROOTS:
        _wipe(root)
    duration_ms = (time.monotonic() - started) * 1000.0

    stdout = b"".join(bufs[out_r])
    stderr = b"".join(bufs[err_r])
    return _assemble(req, b"".join(bufs[res_r]), stdout, stderr, max_out, timed_out, over, wait_status,
                     duration_ms)


def _decode(data, cap):
    return data[:cap].decode("utf-8", errors="replace")


def _signal_name(num):
    return _SIGNAL_NAMES.get(num, "signal %d" % num)


def _assemble(req, res_data, stdout, stderr, max_out, timed_out, over, wait_status, duration_ms):
    n_calls = len(req.get("calls") or [])
    repeat = int(req.get("repeat", 1))
    calls = [[None] * repeat for _ in range(n_calls)]
    load = None
    memory = False
    done = False
    corrupt = False
    for line in res_data.split(b"\n"):
        if not line:
            continue
        try:
            msg = json.loads(line)
            kind = msg["k"]
        except Exception:
            corrupt = True
            continue
        if not isinstance(msg, dict):
            corrupt = True
        elif kind == "load" and load is None:
            load = msg
        elif kind == "call":
            i, r, o = msg.get("i"), msg.get("r"), msg.get("o")
            if (type(i) is int and type(r) is int and 0 <= i < n_calls and 0 <= r < repeat
                    and isinstance(o, dict) and calls[i][r] is None):
                calls[i][r] = o
            else:
                corrupt = True
        elif kind == "memory":
            memory = True
            i, r = msg.get("i"), msg.get("r")
            if type(i) is int and type(r) is int and 0 <= i < n_calls and 0 <= r < repeat and calls[i][r] is None:
                calls[i][r] = {"status": "error", "errorType": "MemoryError", "message": "memory limit reached"}
        elif kind == "done":
            done = True
        else:
            corrupt = True

    result = {"id": req.get("id", ""), "durationMs": round(duration_ms, 3)}
    result["stdout"] = _decode(stdout, max_out)
    result["stderr"] = _decode(stderr, max_out)

    status, error = "ok", None
    if timed_out:
        status = "timeout"
        error = {"type": "Timeout", "message": "time limit of %d ms exceeded" % int(req.get("limits", {}).get("timeoutMs", 10000))}
    elif over == "output":
        status = "output-limit"
        error = {"type": "OutputLimit", "message": "stdout or stderr exceeded %d bytes" % max_out}
    elif over == "result":
        status = "output-limit"
        error = {"type": "OutputLimit", "message": "the program wrote too much to its result channel"}
    elif memory:
        status = "memory"
        error = {"type": "MemoryError", "message": "memory limit reached"}
    elif load is not None and load.get("status") != "ok":
        status = load.get("status") if load.get("status") in (
            "syntax", "def-rule", "banned-import", "input-call", "error", "memory") else "error"
        err = load.get("error") or {}
        error = {"type": str(err.get("type", "Error")), "message": str(err.get("message", ""))}
    elif corrupt:
        status = "error"
        error = {"type": "ResultChannelCorrupted", "message": "the program wrote into the executor's result channel"}
    elif not done or wait_status is None or not os.WIFEXITED(wait_status) or os.WEXITSTATUS(wait_status) != 0:
        status = "error"
        if wait_status is not None and os.WIFSIGNALED(wait_status):
            sig = os.WTERMSIG(wait_status)
            if sig == signal.SIGXCPU:
                status = "timeout"
                error = {"type": "Timeout", "message": "CPU time limit exceeded"}
            else:
                error = {"type": _signal_name(sig), "message": "the program's process was killed by %s" % _signal_name(sig)}
        elif wait_status is not None and os.WIFEXITED(wait_status):
            error = {"type": "ProcessExit",
                     "message": "the program's process exited with code %d before finishing" % os.WEXITSTATUS(wait_status)}
        else:
            error = {"type": "ProcessExit", "message": "the program's process ended before finishing"}
    if load is not None and "program" in load and isinstance(load["program"], str):
        result["program"] = load["program"]

    if req.get("kind") == "run":
        # The first call without an outcome is the one that was running when the job ended.
        interrupted = None
        # (For `memory` the child already reported the failing call itself.)
        if status in ("timeout", "output-limit", "error") and (load is not None and load.get("status") == "ok"):
            if status == "timeout":
                interrupted = {"status": "timeout"}
            elif error is not None:
                interrupted = {"status": "error", "errorType": error["type"], "message": error["message"]}
        for row in calls:
            for r in range(repeat):
                if row[r] is None:
                    if interrupted is not None:
                        row[r] = interrupted
                        interrupted = None
                    else:
                        row[r] = {"status": "not-run"}
        result["calls"] = calls
    else:
        result["calls"] = []
    result["status"] = status
    if error is not None:
        error["message"] = _short(error["message"])
        result["error"] = error
    return result


_JOB_FDS = 4  # request pipe (read end), stdout, stderr, result pipe (write ends)


def _job_child(fds):
    """A job's process, just forked by the zygote: reads its request from the supervisor, then
    runs it as _child_main does. Never returns."""
    req_r, out_w, err_w, res_w = fds
    try:
        chunks = []
        while True:
            chunk = os.read(req_r, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        req = json.loads(b"".join(chunks))
    except BaseException:
        os._exit(70)
    _child_main(req, out_w, err_w, res_w, os.path.join(WRITABLE_ROOTS[0], JOB_DIR_NAME))


def _serve_forks(sock, supervisor):
    """PID 1's loop. It forks each job child when the supervisor asks, reaps it, and reports
    its wait status; it never reads a request or a result, so a job child (a copy of this
    process) finds in its memory no trace of any other job. Returns the supervisor's exit code
    once the supervisor is gone."""
    recvmsg, send = sock.recvmsg, sock.send
    space = _socket.CMSG_SPACE(4 * _JOB_FDS)
    while True:
        try:
            msg, ancillary, _flags, _addr = recvmsg(1, space)
        except OSError:
            break
        if not msg:
            break
        fds = [int.from_bytes(data[i:i + 4], sys.byteorder)
               for _level, _kind, data in ancillary for i in range(0, len(data) - 3, 4)]
        if len(fds) != _JOB_FDS:
            for fd in fds:
                os.close(fd)
            send(b"Emalformed fork request")
            continue
        try:
            pid = os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            send(b"E" + str(exc).encode("utf-8", "replace"))
            continue
        if pid == 0:
            _job_child(fds)
        for fd in fds:
            os.close(fd)
        send(b"P%d" % pid)
        while True:
            # As PID 1 this process also inherits any orphan; reap whatever ends.
            got, status = os.waitpid(-1, 0)
            if got == pid:
                send(b"X%d" % status)
                break
            if got == supervisor:
                _kill_job(pid)
                return os.waitstatus_to_exitcode(status)
    _, status = os.waitpid(supervisor, 0)
    return os.waitstatus_to_exitcode(status)


_WARM_UP_REQUEST = json.dumps({
    "id": "warm-up", "kind": "run", "argsMode": "literal", "repeat": 2, "limits": {"timeoutMs": 1000},
    "program": "from collections import Counter\ndef f(text, n=2):\n    words = [w.lower() for w in text.split()]\n"
               "    return sorted(Counter(words).items())[:n], {w[:1] for w in words}, len(text) * 0.5",
    "calls": ["'b a b', 1", "'x y'"],
    "checks": {"bannedModules": ["os"], "bannedCheck": "strict", "rejectInputCall": True},
}).encode()


def _warm_up():
    """Runs a job child's code path once in the zygote, on a request of its own, so that what
    CPython sets up lazily on first use (the JSON decoder, the parser and compiler, the ast
    types) is already in the memory every job child inherits."""
    global _emit
    real_emit, _emit = _emit, lambda msg: _json_dumps(msg)
    try:
        _run_child(json.loads(_WARM_UP_REQUEST))
    finally:
        _emit = real_emit


def _preload_system_modules():
    """Scoring pools only (packages/executor/src/system-modules.ts): the backend binds Debian's
    dist-packages read-only and names it and the modules to import here, in the zygote, so every
    job's child starts with them loaded. Returns the imported names ([] when none were asked
    for), or None after reporting a failure on stderr."""
    path = os.environ.get("AZR_RUNNER_SYS_PATH", "")
    names = [n for n in os.environ.get("AZR_RUNNER_PRELOAD", "").split(",") if n]
    if not names:
        return []
    if path and path not in sys.path:
        sys.path.append(path)
    done = []
    for name in names:
        try:
            module = __import__(name)
        except Exception as exc:
            sys.stderr.write("azr runner: cannot import %s from %s: %s: %s\n" % (name, path, type(exc).__name__, exc))
            return None
        done.append("%s %s" % (name, getattr(module, "__version__", "?")))
    return done


def _prctl_hardening():
    """Marks the zygote non-dumpable so a job (same uid) cannot open /proc/1/fd/* or /proc/1/mem
    to reach the protocol channel, and sets no_new_privs."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        ok_dump = libc.prctl(4, 0, 0, 0, 0) == 0  # PR_SET_DUMPABLE
        ok_nnp = libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
        return ok_dump and ok_nnp
    except Exception:
        return False


def _child_filter_works():
    """Forks a probe that installs the job filter, then tries to read this process's limits by
    pid and to signal every process it may (signal 0), both of which the filter must refuse."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            _install_child_filter(os.getpid())
            try:
                resource.prlimit(os.getppid(), resource.RLIMIT_CORE)
            except PermissionError:
                try:
                    os.kill(-1, 0)
                except ProcessLookupError:
                    code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _write_line(fd, obj):
    data = (json.dumps(obj, ensure_ascii=True, allow_nan=False, separators=(",", ":")) + "\n").encode("ascii")
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


FRAME_HEADER = 11  # "%010d\n": the byte length of the JSON request that follows


def _read_exact(fd, n):
    parts = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            return None
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def _read_frames(fd):
    """Requests are length-prefixed and read exactly, never ahead: the pool may already have
    written the next request, and it must stay in the kernel's pipe buffer rather than in this
    process's memory, which the next job's child would inherit."""
    while True:
        header = _read_exact(fd, FRAME_HEADER)
        if header is None:
            return
        try:
            size = int(header)
        except ValueError:
            yield b"\x00bad frame header"
            return
        body = _read_exact(fd, size)
        if body is None:
            return
        yield body


def _prepare_zygote():
    """State every child inherits, set once here rather than per fork."""
    for root in WRITABLE_ROOTS:
        _wipe(root)
    job_dir = os.path.join(WRITABLE_ROOTS[0], JOB_DIR_NAME)
    os.environ.clear()
    os.environ.update({"TMPDIR": job_dir, "HOME": job_dir, "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"})
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace")
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace",
                                  write_through=True)
    sys.argv = ["<program>"]
    # Jobs get the default dispositions except SIGPIPE and SIGXFSZ, which stay ignored so that
    # writing to a closed pipe or past the file-size limit is an OSError the program sees.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM, signal.SIGCHLD,
                signal.SIGUSR1, signal.SIGUSR2, signal.SIGXCPU):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _supervise(in_fd, out_fd, forks, greeting, limits_at_start):
    """The supervisor: answers requests on the protocol channel, one job at a time."""
    if not GREET_ON_REQUEST:
        _write_line(out_fd, greeting)
    for line in _read_frames(in_fd):
        try:
            req = json.loads(line)
            if isinstance(req, dict) and req.get("kind") == "hello":
                _write_line(out_fd, greeting)
                continue
            if not isinstance(req, dict) or req.get("kind") not in ("check", "run"):
                raise ValueError("not a check or run request")
        except Exception as exc:
            _write_line(out_fd, {"id": "", "status": "sandbox-failure", "error": {"type": "BadRequest", "message": _short(exc)},
                            "calls": [], "stdout": "", "stderr": "", "durationMs": 0})
            continue
        try:
            resp = run_job(req, line, forks)
        except RunnerUnfit as exc:
            _write_line(out_fd, {"id": req.get("id", ""), "status": "sandbox-failure",
                                 "error": {"type": "RunnerUnfit", "message": _short(exc)},
                                 "calls": [], "stdout": "", "stderr": "", "durationMs": 0})
            sys.stderr.write("azr runner: %s; exiting so that a fresh runner replaces this one\n" % exc)
            return 3
        except Exception as exc:
            resp = {"id": req.get("id", ""), "status": "sandbox-failure",
                    "error": {"type": type(exc).__name__, "message": _short(exc)},
                    "calls": [], "stdout": "", "stderr": "", "durationMs": 0}
            try:
                for root in WRITABLE_ROOTS:
                    _wipe(root)
            except Exception:
                pass
        _write_line(out_fd, resp)
        if own_limits() != limits_at_start or own_limits(forks.pid) != limits_at_start:
            # Only possible where the job filter is missing (an unknown machine): the job that
            # did it still gets its answer; no later job runs under the changed limits.
            sys.stderr.write("azr runner: a job changed the runner's own resource limits; exiting so that a fresh runner replaces this one\n")
            return 3
    return 0


def main():
    if os.getuid() == 0 or os.geteuid() == 0:
        sys.stderr.write("azr runner: refusing to run as root; it must run unprivileged inside a sandbox\n")
        return 2
    in_fd, out_fd = 0, 1
    connect = os.environ.get("AZR_RUNNER_CONNECT")
    if connect:
        # The Docker backend hands the runner a Unix socket in a directory it deletes as soon as
        # the runner is connected, so the protocol bypasses the daemon's stdio relay and no job
        # can ever open the socket (it is gone before the first request).
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        sock.connect(connect)
        in_fd = out_fd = sock.detach()
    hardened = _prctl_hardening()
    if not hardened:
        sys.stderr.write("azr runner: prctl hardening failed\n")
        return 2
    global _install_child_filter
    _install_child_filter = _make_filter_installer(child_filter_program())
    if _install_child_filter is not None and not _child_filter_works():
        sys.stderr.write("azr runner: the job seccomp filter does not hold (prlimit or kill on another process still works)\n")
        return 2
    preloaded = _preload_system_modules()
    if preloaded is None:
        return 2
    # This process runs as PID 1 of its PID namespace (bwrap --as-pid-1, or a container's init),
    # so the kernel only delivers signals from inside the namespace that have a handler: with
    # default dispositions (set in _prepare_zygote) a job can neither stop nor kill it.
    _prepare_zygote()
    _warm_up()
    limits_at_start = own_limits()
    gc.collect()
    gc.freeze()
    gc.disable()
    greeting = {"ready": True, "protocol": PROTOCOL_VERSION, "python": sys.version.split()[0],
                "pid": os.getpid(), "uid": os.getuid(), "hashSeed": HASH_SEED,
                "jobFilter": _install_child_filter is not None}
    if preloaded:
        greeting["preloaded"] = preloaded
    # Two processes from here: this one (PID 1, the zygote) only forks job children; a child of
    # it, the supervisor, holds the protocol channel and does all the per-job work. Job children
    # are copies of the zygote, whose memory never holds a request or a result, so no job can
    # read another's program, inputs or outputs out of the memory it inherits.
    zygote_end, supervisor_end = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
    supervisor = os.fork()
    if supervisor == 0:
        code = 70
        try:
            zygote_end.close()
            code = _supervise(in_fd, out_fd, ForkServer(supervisor_end, os.getppid()), greeting, limits_at_start)
        finally:
            _flush_std()
            os._exit(code)
    supervisor_end.close()
    # The protocol channel's descriptors become /dev/null here, rather than free numbers, so the
    # pipe ends a job child receives are never numbered 0 or 1 (which its set-up overwrites).
    null = os.open("/dev/null", os.O_RDWR)
    for fd in {in_fd, out_fd}:
        os.dup2(null, fd)
    os.close(null)
    return _serve_forks(zygote_end, supervisor)


if __name__ == "__main__":
    sys.exit(main())
