"""The reference executor's design, reproduced for the benchmark (azr-spec.md section 6).

One persistent worker process from a process pool (max_workers=1), one job submitted at a time;
inside the worker each program is split into lines, all but the last exec'd into a fresh
globals dict and the last eval'd, under a signal-based timeout; the result must survive str()
and pickle. No isolation between jobs, no resource limits. The reference uses pebble's
ProcessPool; pebble is not in Debian, so this uses the stdlib's ProcessPoolExecutor, which has
the same shape (a long-lived worker fed through a queue).

Reads a plan (JSON) on stdin, prints timings (JSON) on stdout. The workloads mirror what
bench/executor/run.ts asks the sandboxed pool to do, one reference-style run per check.
"""

import json
import os
import pickle
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor

TIMEOUT_S = 10


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout("Timeout Error")


def run_code(code):
    lines = code.strip().split("\n")
    g = {}
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIMEOUT_S)
    try:
        exec("\n".join(lines[:-1]), g)
        result = eval(lines[-1], g)
        text = str(result)
        pickle.dumps(result)
        return text.strip(), "Done"
    except BaseException as exc:  # the reference reports the last traceback line
        return "", "%s: %s" % (type(exc).__name__, exc)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


DET = "def _azr_det(a, b):\n    if a != b:\n        raise Exception('nondeterministic')\n    return a"


def validation_code(program, inp):
    return "%s\n%s\nrepr(_azr_det(f(%s), f(%s)))" % (program, DET, inp, inp)


def check_code(program, gold_repr, inp):
    return "%s\nrepr(%s == f(%s))" % (program, gold_repr, inp)


class Runner:
    def __init__(self):
        self.pool = ProcessPoolExecutor(max_workers=1)
        self.pool.submit(run_code, "1").result()  # start the worker before timing
        self.latencies = []
        self.runs = 0

    def run(self, code):
        t = time.perf_counter()
        out = self.pool.submit(run_code, code).result(timeout=TIMEOUT_S + 5)
        self.latencies.append((time.perf_counter() - t) * 1000)
        self.runs += 1
        return out

    def close(self):
        self.pool.shutdown()


def validate(r, fx, n_inputs):
    """Returns gold reprs (None when invalid)."""
    golds = []
    for inp in fx["inputs"][:n_inputs]:
        out, status = r.run(validation_code(fx["program"], inp))
        if status != "Done":
            return None
        golds.append(out)
    return golds


def workload(name, r, fixtures, plan):
    start = time.perf_counter()
    checks = 0
    if name == "validation":
        for i in plan["all"]:
            validate(r, fixtures[i], 1)
    elif name == "abduction-checks":
        golds = plan["golds"]
        for i in plan["all"]:
            fx = fixtures[i]
            r.run(check_code(fx["program"], golds[i], fx["solverInputs"][0]))
    elif name == "induction":
        for i in plan["all"]:
            validate(r, fixtures[i], 10)
    elif name == "full-step":
        valid = {}
        for kind in ("deduction", "abduction"):
            for i in plan[kind]:
                g = validate(r, fixtures[i], 1)
                if g is not None:
                    valid[(kind, i)] = g
        for i in plan["induction"]:
            g = validate(r, fixtures[i], 10)
            if g is not None:
                valid[("induction", i)] = g
        # Learnability: 8 solver attempts per valid proposal (deduction answers are compared as
        # literals outside the executor, on both sides).
        for (kind, i), g in valid.items():
            fx = fixtures[i]
            if kind == "abduction":
                for inp in fx["solverInputs"][:8]:
                    r.run(check_code(fx["program"], g[0], inp))
            elif kind == "induction":
                for _ in range(8):
                    for k in range(5, 10):
                        r.run(check_code(fx["solverProgram"], g[k], fx["inputs"][k]))
        # Solve batch: 64 tasks per type from the buffer.
        for i in plan["solveAbduction"]:
            fx = fixtures[i]
            r.run(check_code(fx["program"], plan["golds"][i], fx["solverInputs"][1]))
        for i in plan["solveInduction"]:
            fx = fixtures[i]
            for k in range(5, 10):
                r.run(check_code(fx["solverProgram"], plan["goldsAll"][i][k], fx["inputs"][k]))
    wall = time.perf_counter() - start
    return wall


def golds_of(fixtures):
    """Gold output reprs of every fixture input, computed up front (untimed), as the trainer
    would have them from earlier validation."""
    all_golds = []
    for fx in fixtures:
        g = {}
        exec(fx["program"], g)
        all_golds.append([repr(eval("f(%s)" % inp, g)) for inp in fx["inputs"]])
    return all_golds


def main():
    plan = json.load(sys.stdin)
    fixtures = plan["fixtures"]
    plan["goldsAll"] = golds_of(fixtures)
    plan["golds"] = [g[0] for g in plan["goldsAll"]]
    out = {}
    for name in plan["workloads"]:
        before = os.times()
        r = Runner()
        wall = workload(name, r, fixtures, plan)
        r.close()  # joins the worker, so its CPU is counted in children_* below
        after = os.times()
        cpu = sum(getattr(after, k) - getattr(before, k) for k in ("user", "system", "children_user", "children_system"))
        lat = sorted(r.latencies)
        out[name] = {
            "runs": r.runs,
            "wallS": wall,
            "runsPerS": r.runs / wall if wall else 0,
            "p50Ms": lat[len(lat) // 2] if lat else 0,
            "p99Ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0,
            # Includes the worker's start, a few ms: the worker lives for this workload only.
            "cpuMsPerRun": round(cpu / r.runs * 1000, 3) if r.runs else 0,
        }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
