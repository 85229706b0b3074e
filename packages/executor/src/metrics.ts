import type { JobStatus } from "@azr/protocol";

/** Fixed-size ring of recent samples; percentiles over the window. */
export class LatencyWindow {
  private readonly buf: Float64Array;
  private n = 0;
  private next = 0;

  constructor(readonly size = 10_000) {
    this.buf = new Float64Array(size);
  }

  add(ms: number): void {
    this.buf[this.next] = ms;
    this.next = (this.next + 1) % this.size;
    if (this.n < this.size) this.n++;
  }

  percentiles(): { p50: number; p90: number; p99: number; max: number; count: number } {
    if (this.n === 0) return { p50: 0, p90: 0, p99: 0, max: 0, count: 0 };
    const sorted = Array.from(this.buf.subarray(0, this.n)).sort((a, b) => a - b);
    return {
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      max: sorted[sorted.length - 1]!,
      count: this.n,
    };
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export interface ExecutorMetrics {
  backend: string;
  runners: { configured: number; alive: number; busy: number };
  queued: number;
  completed: number;
  /** Completed jobs per second over the last `windowSeconds` (0 when idle). */
  jobsPerSecond: number;
  windowSeconds: number;
  statuses: Partial<Record<JobStatus, number>>;
  timeouts: number;
  /** Runners that died unexpectedly (not killed by the pool). */
  crashes: number;
  /** Runners the pool killed because they did not answer in time. */
  hungKilled: number;
  restarts: number;
  startFailures: number;
  /** Milliseconds from `run()` to the result (queueing included). */
  latencyMs: ReturnType<LatencyWindow["percentiles"]>;
  /** Milliseconds a runner spent on the job. */
  execMs: ReturnType<LatencyWindow["percentiles"]>;
}

/** Counts completions per second over a sliding window of one-second buckets. */
export class RateWindow {
  private readonly buckets: number[];
  private readonly stamps: number[];
  constructor(readonly seconds = 10) {
    this.buckets = new Array<number>(seconds).fill(0);
    this.stamps = new Array<number>(seconds).fill(-1);
  }

  add(nowMs: number): void {
    const sec = Math.floor(nowMs / 1000);
    const i = sec % this.seconds;
    if (this.stamps[i] !== sec) {
      this.stamps[i] = sec;
      this.buckets[i] = 0;
    }
    this.buckets[i]!++;
  }

  rate(nowMs: number, sinceMs: number): number {
    const sec = Math.floor(nowMs / 1000);
    let total = 0;
    for (let i = 0; i < this.seconds; i++) {
      const s = this.stamps[i]!;
      if (s >= 0 && sec - s < this.seconds) total += this.buckets[i]!;
    }
    const span = Math.max(1, Math.min(this.seconds, (nowMs - sinceMs) / 1000));
    return total / span;
  }
}
