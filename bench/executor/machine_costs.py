"""What this machine's kernel charges for the operations a fork-per-program executor is made of.

Every job of the sandboxed pool forks a child from a warm CPython zygote. The child's writes to
memory it shares with the zygote are copy-on-write page faults, and so are the zygote's own
writes after each fork; fork and exit copy and tear down the page tables. Those costs are set by
the kernel and the (virtual) machine, not by the executor, so the benchmark measures them next
to its throughput figures:

  cowFaultUs            one copy-on-write fault: a forked child writes one byte per page
  zeroFillFaultUs       one fault on a fresh anonymous page
  pythonForkExitCpuMs   CPU (parent + child) of fork + os._exit + waitpid of a bare python3 -I -S,
                        the floor of any design that forks one CPython child per program

Prints one JSON object. Run unsandboxed; it touches nothing outside its own memory.
"""

import json
import mmap
import os
import time

PAGE = mmap.PAGESIZE
REGION = 64 << 20


def touch(buf, value):
    for off in range(0, REGION, PAGE):
        buf[off] = value


def per_page_us(seconds):
    return round(seconds / (REGION // PAGE) * 1e6, 3)


def zero_fill_fault_us():
    best = None
    for _ in range(3):
        buf = mmap.mmap(-1, REGION)
        start = time.perf_counter()
        touch(buf, 1)
        elapsed = time.perf_counter() - start
        buf.close()
        best = elapsed if best is None else min(best, elapsed)
    return per_page_us(best)


def loop_overhead_s():
    # The Python loop itself, on pages that are already private, is subtracted from both figures.
    buf = mmap.mmap(-1, REGION)
    touch(buf, 1)
    start = time.perf_counter()
    touch(buf, 2)
    elapsed = time.perf_counter() - start
    buf.close()
    return elapsed


def cow_fault_us():
    buf = mmap.mmap(-1, REGION)
    touch(buf, 1)
    results = []
    for _ in range(3):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            start = time.perf_counter()
            touch(buf, 3)
            os.write(write_end, repr(time.perf_counter() - start).encode())
            os._exit(0)
        os.close(write_end)
        data = os.read(read_end, 100)
        os.close(read_end)
        os.waitpid(pid, 0)
        results.append(float(data))
    buf.close()
    return min(results)


def python_fork_exit_cpu_ms(cycles=500):
    before = os.times()
    for _ in range(cycles):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    after = os.times()
    cpu = (after.user - before.user) + (after.system - before.system)
    cpu += (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return round(cpu / cycles * 1e3, 3)


def main():
    overhead = loop_overhead_s()
    zero = zero_fill_fault_us()
    cow = cow_fault_us()
    print(json.dumps({
        "cowFaultUs": max(0.0, round(per_page_us(cow) - per_page_us(overhead), 3)),
        "zeroFillFaultUs": max(0.0, round(zero - per_page_us(overhead), 3)),
        "pythonForkExitCpuMs": python_fork_exit_cpu_ms(),
    }))


if __name__ == "__main__":
    main()
