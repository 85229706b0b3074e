import { pyRepr } from "@azr/azr";
import type { RunRequest } from "@azr/protocol";

// The test harness a candidate program runs under in the sandbox. One job runs many test cases
// of one program (a fork per job, not per test), and still isolates them: every test executes
// the program's module code afresh in a new namespace, under its own time limit (an interval
// timer raising an exception the runner reports), with stdin/stdout of its own. Only inputs go
// in; outputs come back as plain values and are compared with the expected ones outside.
// A program that defeats the per-test timer (catching BaseException in a loop) still meets the
// job's overall limit, and every test after it is reported not run, i.e. failed.

/** lcb_runner's import_string: LiveCodeBench runs every solution with these names available. */
export const LCB_PRELUDE = [
  "from string import *",
  "from re import *",
  "from datetime import *",
  "from collections import *",
  "from heapq import *",
  "from bisect import *",
  "from copy import *",
  "from math import *",
  "from random import *",
  "from statistics import *",
  "from itertools import *",
  "from functools import *",
  "from operator import *",
  "from io import *",
  "from sys import *",
  "from json import *",
  "from builtins import *",
  "from typing import *",
  "import string",
  "import re",
  "import datetime",
  "import collections",
  "import heapq",
  "import bisect",
  "import copy",
  "import math",
  "import random",
  "import statistics",
  "import itertools",
  "import functools",
  "import operator",
  "import io",
  "import sys",
  "import json",
  "sys.setrecursionlimit(50000)",
  "",
].join("\n");

const HARNESS = String.raw`
import builtins as _azr_builtins
import io as _azr_io
import signal as _azr_signal
import sys as _azr_sys
import time as _azr_time

class _AzrTimeout(BaseException):
    pass

def _azr_alarm(signum, frame):
    raise _AzrTimeout("time limit exceeded")

_azr_signal.signal(_azr_signal.SIGALRM, _azr_alarm)

class _AzrSink(_azr_io.TextIOBase):
    def write(self, s):
        return len(s)

_AZR_CODE = compile(_AZR_SOURCE, "<solution>", "exec")

def _azr_load(name):
    ns = {"__name__": name, "__builtins__": _azr_builtins}
    exec(_AZR_CODE, ns)
    return ns

def _azr_entry(ns):
    # LeetCode-style answers wrap the function in class Solution (as lcb_runner expects).
    cls = ns.get("Solution")
    if isinstance(cls, type) and hasattr(cls, _AZR_ENTRY):
        return getattr(cls(), _AZR_ENTRY)
    if _AZR_ENTRY in ns:
        return ns[_AZR_ENTRY]
    raise NameError("the program defines no function %r" % _AZR_ENTRY)

def _azr_call(limit, *args):
    saved = _azr_sys.stdout
    _azr_sys.stdout = _AzrSink()
    _azr_signal.setitimer(_azr_signal.ITIMER_REAL, limit)
    try:
        fn = _azr_entry(_azr_load("__solution__"))
        start = _azr_time.perf_counter()
        out = fn(*args)
        return (_azr_time.perf_counter() - start, out)
    finally:
        _azr_signal.setitimer(_azr_signal.ITIMER_REAL, 0)
        _azr_sys.stdout = saved

def _azr_stdio(limit, data):
    stdin = _azr_io.TextIOWrapper(_azr_io.BytesIO(data.encode("utf-8")), encoding="utf-8")
    raw = _azr_io.BytesIO()
    stdout = _azr_io.TextIOWrapper(raw, encoding="utf-8", errors="backslashreplace", write_through=True)
    real_open = _azr_builtins.open
    def _azr_open(file, *a, **k):
        return stdin if file == 0 else real_open(file, *a, **k)
    # open(0) reads the test's stdin, as under lcb_runner's patched open; patched in builtins
    # because the LiveCodeBench prelude star-imports builtins into the program's namespace.
    saved = (_azr_sys.stdin, _azr_sys.stdout)
    _azr_sys.stdin, _azr_sys.stdout, _azr_builtins.open = stdin, stdout, _azr_open
    ns = {"__name__": "__main__", "__builtins__": _azr_builtins}
    start = _azr_time.perf_counter()
    _azr_signal.setitimer(_azr_signal.ITIMER_REAL, limit)
    try:
        exec(_AZR_CODE, ns)
    except SystemExit:
        pass
    finally:
        _azr_signal.setitimer(_azr_signal.ITIMER_REAL, 0)
        _azr_sys.stdin, _azr_sys.stdout = saved
        _azr_builtins.open = real_open
    stdout.flush()
    return (_azr_time.perf_counter() - start, raw.getvalue().decode("utf-8", "replace"))

def _azr_check(limit):
    saved = _azr_sys.stdout
    _azr_sys.stdout = _AzrSink()
    _azr_signal.setitimer(_azr_signal.ITIMER_REAL, limit)
    try:
        ns = _azr_load("__solution__")
        start = _azr_time.perf_counter()
        ns["check"](_azr_entry(ns))
        return (_azr_time.perf_counter() - start, None)
    finally:
        _azr_signal.setitimer(_azr_signal.ITIMER_REAL, 0)
        _azr_sys.stdout = saved
`;

export type HarnessMode = "call" | "stdio" | "check";

/** The harness program for one candidate (the candidate travels as a string constant). */
export function harnessProgram(source: string, entry: string | undefined): string {
  return `_AZR_SOURCE = ${pyRepr({ t: "str", v: source })}\n_AZR_ENTRY = ${entry === undefined ? "None" : pyRepr({ t: "str", v: entry })}\n${HARNESS}`;
}

export interface HarnessJob {
  mode: HarnessMode;
  /** Per-test limits, ms (one per call). */
  limitsMs: number[];
  /** Argument source per call after the limit: `1, 2` (call), a str literal (stdio), "" (check). */
  args: string[];
  memoryMb: number;
}

/** Output values can be large (stdout of a whole test). */
const MAX_VALUE_BYTES = 16 * 1024 * 1024;

export function harnessRequest(id: string, program: string, job: HarnessJob): RunRequest {
  const entry = job.mode === "call" ? "_azr_call" : job.mode === "stdio" ? "_azr_stdio" : "_azr_check";
  const total = job.limitsMs.reduce((s, x) => s + x, 0);
  return {
    id,
    kind: "run",
    program,
    entry,
    // Inputs are the benchmark's (trusted) data; expressions allow float('nan') and complex().
    argsMode: "expression",
    calls: job.args.map((a, i) => {
      const limit = `${job.limitsMs[i]! / 1000}`;
      return a === "" ? limit : `${limit}, ${a}`;
    }),
    limits: { timeoutMs: Math.min(120_000, total + 5000), memoryMb: job.memoryMb, maxValueBytes: MAX_VALUE_BYTES, maxOutputBytes: 64 * 1024 },
  };
}
