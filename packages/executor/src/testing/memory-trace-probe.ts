import { randomBytes } from "node:crypto";
import type { ExecResult } from "@azr/protocol";
import type { ExecutorPool } from "../pool.ts";

// A job runs in a copy of its runner's zygote, so whatever the zygote's memory holds, the job can
// read (ctypes.string_at over its own mappings). If the process that forks jobs ever held an
// earlier job's request or result, a later program could read that job's source, its inputs
// and, worse, the outputs it computed: the gold answers of a validation run, the expected
// outputs of a canonical solution. This probe plants marks in an earlier job's source, inputs
// and result on every runner, then has a later job on every runner scan all its readable memory.

// The scanner is given every mark with each byte shifted by one, never the mark itself, and looks
// for the shifted mark in a shifted copy of each mapping: its own request and variables can then
// never match. It builds one control mark itself, unshifted, which it must find.
const SCANNER = `import ctypes
SHIFT = bytes(range(1, 256)) + bytes([0])
UNSHIFT = bytes([255]) + bytes(range(0, 255))
def f(shifted_marks, shifted_control):
    control = shifted_control.encode('latin-1').translate(UNSHIFT).decode('latin-1')
    wanted = {m: m.encode('latin-1') for m in shifted_marks + [shifted_control]}
    found = set()
    for line in open('/proc/self/maps').read().splitlines():
        fields = line.split()
        name = fields[5] if len(fields) > 5 else ''
        if fields[1][0] != 'r' or fields[1][3] != 'p' or name not in ('', '[heap]', '[stack]'):
            continue
        lo, hi = (int(x, 16) for x in fields[0].split('-'))
        if hi - lo > (256 << 20):
            continue
        data = ctypes.string_at(lo, hi - lo).translate(SHIFT)
        found.update(m for m, b in wanted.items() if b in data)
    return sorted(found), control`;

const shift = (s: string) => Array.from(Buffer.from(s, "latin1"), (b) => String.fromCharCode((b + 1) % 256)).join("");

export interface MemoryTraceReport {
  /** Marks of the earlier job found in a later job's memory, per runner (must be empty). */
  leaked: string[][];
  /** Whether each scanner found the control mark it built itself (the scan reads its memory). */
  controlSeen: boolean[];
  earlier: ExecResult[];
}

export async function probeMemoryTraces(pool: ExecutorPool): Promise<MemoryTraceReport> {
  const tag = randomBytes(6).toString("hex");
  const marks = { source: `src-${tag}`, input: `inp-${tag}`, result: `res-${tag}` };
  const earlier = await pool.runOnEveryRunner({
    kind: "run",
    program: `SOURCE_MARK = ${JSON.stringify(marks.source)}\ndef f(x):\n    return 'res-' + x[4:]`,
    calls: [JSON.stringify(marks.input)],
  });
  const byShifted = new Map(Object.values(marks).map((m) => [shift(m), m]));
  const control = shift(`ctl-${tag}`);
  const scans = await pool.runOnEveryRunner({
    kind: "run",
    program: SCANNER,
    calls: [`${JSON.stringify([...byShifted.keys()])}, ${JSON.stringify(control)}`],
  });
  const found = scans.map((r) => {
    const c = r.calls[0]?.[0];
    if (r.status !== "ok" || c?.status !== "ok" || c.value.t !== "tuple") throw new Error(`memory scan failed: ${JSON.stringify(r)}`);
    const list = c.value.v[0];
    return list?.t === "list" ? list.v.map((v) => (v.t === "str" ? v.v : "")) : [];
  });
  return {
    leaked: found.map((f) => f.filter((m) => m !== control).map((m) => byShifted.get(m) ?? m)),
    controlSeen: found.map((f) => f.includes(control)),
    earlier,
  };
}
