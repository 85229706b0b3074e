import { pyRepr } from "@azr/azr";
import type { ExecutorPool } from "@azr/executor";
import type { ExecResult, RunRequest } from "@azr/protocol";

// Symbolic equivalence with Debian's sympy, in the sandbox (never in this process: parse_expr
// evaluates its input). Many checks go into one job; the scoring pool imports sympy once per
// runner, in the zygote (executor `systemModules`), so a job costs a fork, not an import. Each
// check has its own time limit; a job that dies early (a pathological simplify) is retried with
// the checks it did not reach, so one bad answer never decides its neighbours.

export const SYMPY_PROGRAM = String.raw`
import signal as _azr_signal
import sympy as _azr_sympy
from sympy.parsing.sympy_parser import parse_expr as _azr_parse, standard_transformations as _azr_std, implicit_multiplication_application as _azr_implicit, convert_xor as _azr_xor

_AZR_T = _azr_std + (_azr_implicit, _azr_xor)

class _AzrTimeout(BaseException):
    pass

def _azr_alarm(signum, frame):
    raise _AzrTimeout("equivalence check took too long")

_azr_signal.signal(_azr_signal.SIGALRM, _azr_alarm)

def _azr_split(s):
    # Top-level comma-separated parts, with the outer brackets of a tuple/interval/set removed.
    if len(s) >= 2 and s[0] in "([{" and s[-1] in ")]}":
        inner, depth, ok = s[1:-1], 0, True
        for ch in inner:
            depth += ch in "([{"
            depth -= ch in ")]}"
            if depth < 0:
                ok = False
                break
        if ok and depth == 0:
            s = inner
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p for p in parts if p != ""]

def _azr_expr(s):
    return _azr_parse(s, transformations=_AZR_T, evaluate=True)

def _azr_zero(d):
    if d == 0:
        return True
    if _azr_sympy.simplify(d) == 0:
        return True
    try:
        v = complex(_azr_sympy.N(d, 30))
        return abs(v) <= 1e-9
    except Exception:
        return False

def _azr_same(a, b):
    if a == b:
        return True
    pa, pb = _azr_split(a), _azr_split(b)
    if len(pa) > 1 or len(pb) > 1:
        if len(pa) != len(pb):
            return False
        ea, eb = a[:1] + a[-1:], b[:1] + b[-1:]
        if ea[:1] in "([" and eb[:1] in "([" and ea != eb:
            return False
        return all(_azr_same(x, y) for x, y in zip(pa, pb))
    if "=" in a and "=" in b:
        la, ra = a.split("=", 1)
        lb, rb = b.split("=", 1)
        da, db = _azr_expr(la) - _azr_expr(ra), _azr_expr(lb) - _azr_expr(rb)
        return _azr_zero(da - db) or _azr_zero(da + db)
    ea, eb = _azr_expr(a), _azr_expr(b)
    if isinstance(ea, _azr_sympy.Basic) and isinstance(eb, _azr_sympy.Basic):
        return _azr_zero(ea - eb)
    return ea == eb

def _azr_equiv(limit, a, b):
    _azr_signal.setitimer(_azr_signal.ITIMER_REAL, limit)
    try:
        return bool(_azr_same(a, b))
    finally:
        _azr_signal.setitimer(_azr_signal.ITIMER_REAL, 0)
`;

export interface SympyCheck {
  /** sympy-parsable text (latexToSympy). */
  a: string;
  b: string;
}

export type SympyVerdict = { equal: boolean; detail: string };

/** How many checks go into one job. */
export const SYMPY_CHECKS_PER_JOB = 64;
/** Sum of the per-check limits one job may carry (the executor caps a job at 120 s). */
const JOB_BUDGET_MS = 110_000;

/** One job checking `checks` in order (exported for the bench's per-answer baseline). */
export function sympyRequest(checks: readonly SympyCheck[], limitMs: number, memoryMb: number): RunRequest {
  const limit = limitMs / 1000;
  return {
    id: "sympy",
    kind: "run",
    program: SYMPY_PROGRAM,
    entry: "_azr_equiv",
    argsMode: "literal",
    calls: checks.map((c) => `${limit}, ${pyRepr({ t: "str", v: c.a })}, ${pyRepr({ t: "str", v: c.b })}`),
    limits: { timeoutMs: Math.min(120_000, checks.length * limitMs + 5000), memoryMb },
  };
}

/** Verdict of each check, in order. Requires a pool with sympy preloaded (createEvalExecutor). */
export async function sympyEquivalent(
  executor: ExecutorPool,
  checks: readonly SympyCheck[],
  opts: { limitMs: number; memoryMb: number; perJob?: number },
): Promise<SympyVerdict[]> {
  if (checks.length === 0) return [];
  if (!executor.runtime?.preloaded?.some((m) => m.startsWith("sympy "))) {
    throw new Error("math scoring needs an executor pool with sympy preloaded: create it with createEvalExecutor() or systemModules: [\"sympy\"]");
  }
  const out = new Array<SympyVerdict | undefined>(checks.length);
  // Checks that were running when a job hit its overall limit (a computation the per-check timer
  // could not interrupt, e.g. a huge power in C): they get a job of their own next time, and
  // are judged not equal if that one times out too, so they cannot hold up the others.
  const suspects = new Set<number>();
  let pending = checks.map((_, i) => i);
  for (let round = 0; pending.length > 0; round++) {
    // Up to perJob checks a job, spread over every runner when there are fewer, and never more
    // than fit the executor's 120 s job limit at their own limits each.
    const normal = pending.filter((i) => !suspects.has(i));
    const fit = Math.max(1, Math.floor(JOB_BUDGET_MS / opts.limitMs));
    const perJob = Math.max(1, Math.min(opts.perJob ?? SYMPY_CHECKS_PER_JOB, fit, Math.ceil(normal.length / executor.size)));
    const chunks: number[][] = [];
    for (let i = 0; i < normal.length; i += perJob) chunks.push(normal.slice(i, i + perJob));
    for (const i of pending) if (suspects.has(i)) chunks.push([i]);
    const results: ExecResult[] = await executor.runAll(chunks.map((c) => sympyRequest(c.map((i) => checks[i]!), opts.limitMs, opts.memoryMb)));
    const retry: number[] = [];
    chunks.forEach((chunk, j) => {
      const r = results[j]!;
      chunk.forEach((index, k) => {
        const o = r.calls[k]?.[0];
        if (o?.status === "ok") out[index] = { equal: o.value.t === "bool" && o.value.v, detail: "sympy" };
        else if (o?.status === "error") out[index] = { equal: false, detail: o.errorType === "_AzrTimeout" ? "sympy: time limit" : `sympy: ${o.errorType}: ${o.message.slice(0, 200)}` };
        else if (o?.status === "timeout" && suspects.has(index)) out[index] = { equal: false, detail: "sympy: time limit (job)" };
        else if (r.status === "sandbox-failure" || round >= 5) out[index] = { equal: false, detail: `sympy job ${r.status}: ${r.error?.message ?? ""}`.trim() };
        else {
          // Cut short by the job's overall limit (`timeout`: not necessarily this check's doing)
          // or never reached: tried again in a later job.
          if (o?.status === "timeout") suspects.add(index);
          retry.push(index);
        }
      });
    });
    pending = retry;
  }
  return out as SympyVerdict[];
}
