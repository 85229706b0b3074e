import { createBackend, ExecutorPool } from "@azr/executor";
const pool = await new ExecutorPool(createBackend((process.argv[2] ?? "bwrap") as "bwrap"), { runners: 1 }).start();
const run = async (program: string, calls = [""]) => { const r = await pool.run({ id: "x", kind: "run", program, calls }); return JSON.stringify({ s: r.status, c: r.calls.map((x) => x[0]), e: r.error }); };
console.log("job 1:", await run("SOURCE_MARK = 'zq-source-7731'\ndef f(x):\n    return 'zq-result-' + x", ["'4419'"]));
const scan = `import ctypes
def f():
    found = set()
    me = open('/proc/self/maps').read().splitlines()
    for line in me:
        parts = line.split()
        if parts[1][0] != 'r' or len(parts) > 5 and parts[5].startswith('['):
            if not (len(parts) > 5 and parts[5] == '[heap]'):
                continue
        lo, hi = (int(x, 16) for x in parts[0].split('-'))
        if hi - lo > 64 << 20:
            continue
        data = ctypes.string_at(lo, hi - lo)
        for mark in (b'zq-source-' + b'7731', b'zq-result-' + b'4419', b"'4419'"):
            if mark in data:
                found.add(mark.decode())
    return sorted(found)`;
console.log("job 2:", await run(scan));
await pool.close();
