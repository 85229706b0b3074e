// Where a workload's CPU went, from /proc: the whole machine (user vs kernel), this Node process,
// and the executor's runners: each runner's zygote (PID 1 of its sandbox, which only forks), its
// supervisor (the zygote's first child, which does the per-job work), and the job children the
// zygote forked and reaped.
// On this machine the executor is CPU-bound, so CPU per job, not latency, sets its throughput.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_S = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcTimes {
  starttime: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  minflt: number;
  cminflt: number;
}

export interface CpuSnapshot {
  machine: { user: number; kernel: number; idle: number };
  node: NodeJS.CpuUsage;
  /** Runner zygotes by pid: a python3 whose parent is bwrap or a container shim. */
  runners: Map<number, ProcTimes>;
  /** Each zygote's supervisor, by pid. */
  supervisors: Map<number, ProcTimes>;
}

function stat(pid: string): { comm: string; ppid: number; times: ProcTimes } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const comm = text.slice(text.indexOf("(") + 1, close);
    const f = text.slice(close + 2).split(" ").map(Number);
    // Fields after the command, 0-based: 1 ppid, 7 minflt, 8 cminflt, 11-14 utime stime cutime cstime.
    return {
      comm,
      ppid: f[1]!,
      times: { minflt: f[7]!, cminflt: f[8]!, utime: f[11]!, stime: f[12]!, cutime: f[13]!, cstime: f[14]!, starttime: f[19]! },
    };
  } catch {
    return undefined; // the process ended while we looked
  }
}

function runnerProcesses(): { runners: Map<number, ProcTimes>; supervisors: Map<number, ProcTimes> } {
  const pythons = new Map<number, { ppid: number; times: ProcTimes }>();
  const runners = new Map<number, ProcTimes>();
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const s = stat(pid);
    if (!s?.comm.startsWith("python3")) continue;
    pythons.set(Number(pid), s);
    const parent = stat(String(s.ppid));
    if (parent && (parent.comm === "bwrap" || parent.comm.startsWith("containerd-shim"))) runners.set(Number(pid), s.times);
  }
  // A zygote's children are its supervisor, started with it, and at most one job child.
  const supervisors = new Map<number, ProcTimes>();
  const first = new Map<number, [number, ProcTimes]>();
  for (const [pid, p] of pythons) {
    if (!runners.has(p.ppid)) continue;
    const seen = first.get(p.ppid);
    if (!seen || p.times.starttime < seen[1].starttime) first.set(p.ppid, [pid, p.times]);
  }
  for (const [pid, times] of first.values()) supervisors.set(pid, times);
  return { runners, supervisors };
}

export function cpuSnapshot(): CpuSnapshot {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = cpu;
  return {
    machine: { user: user + nice, kernel: system + irq + softirq + steal, idle: idle + iowait },
    node: process.cpuUsage(),
    ...runnerProcesses(),
  };
}

const ms = (ticks: number) => (ticks * 1000) / TICKS_PER_S;
const r2 = (x: number) => Math.round(x * 1000) / 1000;

/** CPU per job between two snapshots. Runner figures cover runners alive at both. */
export function cpuPerJob(before: CpuSnapshot, after: CpuSnapshot, jobs: number) {
  const sum = (key: keyof ProcTimes, which: "runners" | "supervisors" = "runners") => {
    let total = 0;
    for (const [pid, a] of after[which]) {
      const b = before[which].get(pid);
      if (b) total += a[key] - b[key];
    }
    return total;
  };
  const user = after.machine.user - before.machine.user;
  const kernel = after.machine.kernel - before.machine.kernel;
  const idle = after.machine.idle - before.machine.idle;
  const nodeUs = after.node.user - before.node.user + (after.node.system - before.node.system);
  return {
    /** Every CPU of the machine, whatever ran on it. */
    machineMs: r2(ms(user + kernel) / jobs),
    machineKernelShare: r2(kernel / Math.max(1, user + kernel)),
    machineIdleShare: r2(idle / Math.max(1, user + kernel + idle)),
    nodeMs: r2(nodeUs / 1000 / jobs),
    zygoteMs: r2(ms(sum("utime") + sum("stime")) / jobs),
    supervisorMs: r2(ms(sum("utime", "supervisors") + sum("stime", "supervisors")) / jobs),
    childMs: r2(ms(sum("cutime") + sum("cstime")) / jobs),
    zygoteFaults: Math.round(sum("minflt") / jobs),
    supervisorFaults: Math.round(sum("minflt", "supervisors") / jobs),
    childFaults: Math.round(sum("cminflt") / jobs),
  };
}
