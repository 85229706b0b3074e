import { availableParallelism } from "node:os";
import { execRequestSchema, execResultSchema } from "@azr/protocol";
import type { ExecRequest, ExecResult, JobStatus, ParsedExecRequest } from "@azr/protocol";
import type { SandboxBackend } from "./backend.ts";
import { RunnerConnection } from "./channel.ts";
import type { RunnerGreeting } from "./channel.ts";
import { LatencyWindow, RateWindow } from "./metrics.ts";
import type { ExecutorMetrics } from "./metrics.ts";

export interface PoolOptions {
  /** Warm runners (sandboxes); default: the number of CPU cores. */
  runners?: number;
  /** Jobs waiting for a runner beyond which `run()` rejects with ExecutorQueueFullError. */
  maxQueue?: number;
  /** Added to a job's own time limit before the pool declares its runner hung, kills it and
   * starts a new one (the runner enforces the limit itself; this catches a runner that cannot). */
  graceMs?: number;
  /** How long a runner may take to start and greet. */
  startTimeoutMs?: number;
  /** Requests written to one runner ahead of its answers (1 = strictly one at a time). With 2,
   * the next request already waits in the runner's pipe when a job ends, so the zygote never
   * idles waiting for this process to be scheduled. */
  pipelineDepth?: number;
  /** Called with runner lifecycle events (start failures, crashes), for logs. */
  onEvent?: (event: PoolEvent) => void;
}

export type PoolEvent =
  | { type: "runner-started"; slot: number; label: string; python: string }
  | { type: "runner-start-failed"; slot: number; error: string }
  | { type: "runner-crashed"; slot: number; label: string; reason: string }
  | { type: "runner-hung"; slot: number; label: string; jobId: string };

/** An ExecRequest without its id (one is assigned per runner). */
export type RequestWithoutId = ExecRequest extends infer T ? (T extends unknown ? Omit<T, "id"> : never) : never;

export class ExecutorQueueFullError extends Error {
  override name = "ExecutorQueueFullError";
}
export class ExecutorClosedError extends Error {
  override name = "ExecutorClosedError";
}
export class ExecutorRequestError extends Error {
  override name = "ExecutorRequestError";
}

interface Job {
  /** Set for jobs that must run on one particular runner (health checks). */
  slot?: number;
  settled?: boolean;
  req: ParsedExecRequest;
  line: string;
  submitted: number;
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
}

type SlotState = "starting" | "ready" | "dead";

interface Slot {
  index: number;
  state: SlotState;
  conn: RunnerConnection | undefined;
  failures: number;
  restartTimer: NodeJS.Timeout | undefined;
  pinned: Job[];
  /** Jobs written to the runner, oldest (the one it is running) first. */
  inflight: Job[];
  headTimer: NodeJS.Timeout | undefined;
  headStarted: number;
  /** Set when the pool itself kills the runner, so its exit is not counted as a crash. */
  expectedExit: boolean;
}

const RESTART_BACKOFF_MS = [0, 250, 1000, 3000, 10_000];

function failure(req: { id: string }, status: JobStatus, type: string, message: string, durationMs = 0): ExecResult {
  return { id: req.id, status, error: { type, message }, calls: [], stdout: "", stderr: "", durationMs };
}

/**
 * A pool of warm sandboxed runners. `run()` resolves with a typed result for every program,
 * whatever the program does; it rejects only for caller errors (an invalid request, a full
 * queue, a closed pool).
 */
export class ExecutorPool {
  readonly size: number;
  private readonly maxQueue: number;
  private readonly graceMs: number;
  private readonly startTimeoutMs: number;
  private readonly depth: number;
  private readonly onEvent: (e: PoolEvent) => void;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private queueHead = 0;
  private closing = false;
  private closed = false;
  private drainWaiters: (() => void)[] = [];
  private lastStartError = "";
  private greeting: RunnerGreeting | undefined;

  private readonly latency = new LatencyWindow();
  private readonly exec = new LatencyWindow();
  private readonly rate = new RateWindow(10);
  private readonly createdAt = Date.now();
  private completed = 0;
  private readonly statusCounts: Partial<Record<JobStatus, number>> = {};
  private crashes = 0;
  private hungKilled = 0;
  private restarts = 0;
  private startFailures = 0;

  constructor(
    readonly backend: SandboxBackend,
    options: PoolOptions = {},
  ) {
    this.size = Math.max(1, options.runners ?? availableParallelism());
    this.maxQueue = options.maxQueue ?? 100_000;
    this.graceMs = options.graceMs ?? 2_000;
    this.startTimeoutMs = options.startTimeoutMs ?? 60_000;
    this.depth = Math.max(1, options.pipelineDepth ?? 2);
    this.onEvent = options.onEvent ?? (() => undefined);
  }

  /** Prepares the backend and starts every runner. Refuses (throws) if no runner can start. */
  async start(): Promise<this> {
    await this.backend.prepare();
    for (let i = 0; i < this.size; i++) {
      this.slots.push({ index: i, state: "dead", conn: undefined, failures: 0, restartTimer: undefined, expectedExit: false, pinned: [], inflight: [], headTimer: undefined, headStarted: 0 });
    }
    await Promise.all(this.slots.map((s) => this.startSlot(s)));
    if (!this.slots.some((s) => s.state === "ready")) {
      await this.backend.close();
      throw new Error(`no ${this.backend.name} runner could be started: ${this.lastStartError}`);
    }
    return this;
  }

  /** Interpreter version and hash seed reported by the runners. */
  get runtime(): RunnerGreeting | undefined {
    return this.greeting;
  }

  private async startSlot(slot: Slot): Promise<void> {
    slot.state = "starting";
    slot.expectedExit = false;
    let conn: RunnerConnection | undefined;
    try {
      const channel = await withTimeout(this.backend.startRunner(slot.index), this.startTimeoutMs, "runner start");
      conn = new RunnerConnection(channel);
      const greeting = await withTimeout(conn.greeting, this.startTimeoutMs, "runner greeting");
      this.greeting ??= greeting;
      if (this.closing) {
        slot.state = "dead";
        await conn.kill();
        return;
      }
      slot.conn = conn;
      slot.failures = 0;
      slot.state = "ready";
      this.onEvent({ type: "runner-started", slot: slot.index, label: channel.label, python: greeting.python });
      void channel.exited.then((how) => this.onRunnerExit(slot, conn!, how));
      this.dispatch();
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const detail = conn?.diagnostics ? `${msg} (${conn.diagnostics.slice(-300)})` : msg;
      this.lastStartError = detail;
      this.startFailures++;
      slot.failures++;
      slot.state = "dead";
      if (conn) await conn.kill().catch(() => undefined);
      this.onEvent({ type: "runner-start-failed", slot: slot.index, error: detail });
      this.failQueuedIfNoRunner();
      this.scheduleRestart(slot);
    }
  }

  private scheduleRestart(slot: Slot): void {
    if (this.closing || slot.restartTimer) return;
    const delay = RESTART_BACKOFF_MS[Math.min(slot.failures, RESTART_BACKOFF_MS.length - 1)]!;
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (this.closing) return;
      this.restarts++;
      void this.startSlot(slot);
    }, delay);
  }

  private onRunnerExit(slot: Slot, conn: RunnerConnection, how: string): void {
    if (slot.conn !== conn) return;
    if (!slot.expectedExit && !this.closing) {
      this.crashes++;
      this.onEvent({ type: "runner-crashed", slot: slot.index, label: conn.channel.label, reason: how });
    }
    this.retire(slot, conn, (head) => failure(head.req, "sandbox-failure", "RunnerDied", `the runner died during the job (${how})`, performance.now() - slot.headStarted));
  }

  /**
   * Takes a runner out of service: its current job ends with `headResult`, jobs written behind
   * it go back to the front of the queue (they never started), and a replacement is started.
   */
  private retire(slot: Slot, conn: RunnerConnection, headResult: (head: Job) => ExecResult): void {
    if (slot.conn !== conn) return;
    slot.conn = undefined;
    slot.state = "dead";
    if (slot.headTimer) clearTimeout(slot.headTimer);
    slot.headTimer = undefined;
    const [head, ...rest] = slot.inflight.splice(0);
    if (head && !head.settled) {
      head.settled = true;
      const r = headResult(head);
      this.finish(head, r, r.durationMs);
    }
    for (const job of rest.reverse()) {
      if (job.settled) continue;
      if (job.slot !== undefined) slot.pinned.unshift(job);
      else this.queue.splice(this.queueHead, 0, job);
    }
    if (conn.alive) {
      slot.expectedExit = true;
      void conn.kill().catch(() => undefined);
    }
    if (!this.closing) this.scheduleRestart(slot);
    this.dispatch();
  }

  /** When every runner is down and the last start failed, queued jobs cannot run: fail them
   * with a status rather than leaving them waiting forever. */
  private failQueuedIfNoRunner(): void {
    // A dead slot whose last start succeeded (a crash, a hung runner) is being replaced: wait.
    if (this.slots.some((s) => s.state !== "dead" || s.failures === 0)) return;
    while (this.queueHead < this.queue.length) {
      const job = this.queue[this.queueHead++]!;
      this.finish(job, failure(job.req, "sandbox-failure", "SandboxUnavailable", `no runner could be started: ${this.lastStartError}`), 0);
    }
    this.compactQueue();
  }

  /** Runs one request. Resolves with the job's status for anything the program does. */
  run(request: ExecRequest): Promise<ExecResult> {
    if (this.closing) return Promise.reject(new ExecutorClosedError("the executor pool is closed"));
    const parsed = execRequestSchema.safeParse(request);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join(".") : "request";
      return Promise.reject(new ExecutorRequestError(`invalid executor request: ${where}: ${issue?.message ?? "invalid"}`));
    }
    if (this.queue.length - this.queueHead >= this.maxQueue) {
      return Promise.reject(new ExecutorQueueFullError(`executor queue is full (${this.maxQueue} jobs waiting)`));
    }
    return new Promise<ExecResult>((resolve, reject) => {
      this.queue.push({ req: parsed.data, line: JSON.stringify(parsed.data), submitted: performance.now(), resolve, reject });
      this.dispatch();
      this.failQueuedIfNoRunner();
    });
  }

  /** Runs many requests with at most `concurrency` outstanding, preserving order. */
  async runAll(requests: Iterable<ExecRequest>, concurrency = this.size * 4): Promise<ExecResult[]> {
    const list = [...requests];
    const out = new Array<ExecResult>(list.length);
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const i = next++;
        out[i] = await this.run(list[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
    return out;
  }

  /**
   * Runs `request` once on every runner slot (waiting for busy or restarting ones), e.g. to
   * prove after a batch of hostile jobs that every sandbox still works.
   */
  async runOnEveryRunner(request: RequestWithoutId): Promise<ExecResult[]> {
    if (this.closing) throw new ExecutorClosedError("the executor pool is closed");
    return Promise.all(
      this.slots.map((slot) => {
        const parsed = execRequestSchema.parse({ ...request, id: `runner-${slot.index}` } as ExecRequest);
        return new Promise<ExecResult>((resolve, reject) => {
          slot.pinned.push({ slot: slot.index, req: parsed, line: JSON.stringify(parsed), submitted: performance.now(), resolve, reject });
          this.dispatch();
        });
      }),
    );
  }

  private compactQueue(): void {
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      while (slot.state === "ready" && slot.pinned.length && slot.inflight.length < this.depth) this.send(slot, slot.pinned.shift()!);
    }
    // Idle runners first, so that work spreads before it is pipelined.
    for (let load = 1; load <= this.depth; load++) {
      for (const slot of this.slots) {
        while (slot.state === "ready" && slot.inflight.length < load && this.queueHead < this.queue.length) {
          const job = this.queue[this.queueHead++]!;
          this.compactQueue();
          this.send(slot, job);
        }
      }
    }
  }

  private send(slot: Slot, job: Job): void {
    const conn = slot.conn!;
    slot.inflight.push(job);
    if (slot.inflight.length === 1) this.startHead(slot, conn);
    conn.request(job.line).then(
      (line) => this.onAnswer(slot, conn, job, line),
      () => undefined, // a dead runner is handled once, in onRunnerExit
    );
  }

  /** The runner starts on its oldest job when the previous answer is out: time it from there. */
  private startHead(slot: Slot, conn: RunnerConnection): void {
    const job = slot.inflight[0];
    if (!job) return;
    slot.headStarted = performance.now();
    const limitMs = job.req.kind === "run" ? job.req.limits.timeoutMs : 10_000;
    slot.headTimer = setTimeout(() => {
      // No answer within the job's limit plus grace: the runner is hung or wedged.
      this.hungKilled++;
      this.onEvent({ type: "runner-hung", slot: slot.index, label: conn.channel.label, jobId: job.req.id });
      this.retire(slot, conn, (head) =>
        failure(head.req, "timeout", "Timeout", `no answer within ${limitMs + this.graceMs} ms; the runner was killed and replaced`, performance.now() - slot.headStarted),
      );
    }, limitMs + this.graceMs);
  }

  private onAnswer(slot: Slot, conn: RunnerConnection, job: Job, line: string): void {
    if (slot.conn !== conn || slot.inflight[0] !== job || job.settled) return;
    const elapsed = performance.now() - slot.headStarted;
    let result: ExecResult;
    try {
      const parsed = execResultSchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? "invalid result");
      result = parsed.data;
      if (result.id !== job.req.id) throw new Error(`answer for job ${result.id} instead of ${job.req.id}`);
    } catch (e) {
      // The runner broke its protocol: do not trust it with another job.
      this.retire(slot, conn, (head) => failure(head.req, "sandbox-failure", "RunnerProtocol", (e as Error).message, elapsed));
      return;
    }
    if (slot.headTimer) clearTimeout(slot.headTimer);
    slot.headTimer = undefined;
    slot.inflight.shift();
    job.settled = true;
    if (slot.inflight.length) this.startHead(slot, conn);
    this.finish(job, result, elapsed);
    this.dispatch();
  }

  private finish(job: Job, result: ExecResult, execMs: number): void {
    const now = performance.now();
    this.completed++;
    this.statusCounts[result.status] = (this.statusCounts[result.status] ?? 0) + 1;
    this.latency.add(now - job.submitted);
    this.exec.add(execMs);
    this.rate.add(Date.now());
    job.resolve(result);
    if (this.queueHead >= this.queue.length && !this.slots.some((s) => s.inflight.length || s.pinned.length)) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves when no job is queued or running. */
  idle(): Promise<void> {
    if (this.queueHead >= this.queue.length && !this.slots.some((s) => s.inflight.length || s.pinned.length)) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  metrics(): ExecutorMetrics {
    const now = Date.now();
    return {
      backend: this.backend.name,
      runners: {
        configured: this.size,
        alive: this.slots.filter((s) => s.state === "ready").length,
        busy: this.slots.filter((s) => s.inflight.length > 0).length,
      },
      queued: this.queue.length - this.queueHead,
      completed: this.completed,
      jobsPerSecond: this.rate.rate(now, this.createdAt),
      windowSeconds: this.rate.seconds,
      statuses: { ...this.statusCounts },
      timeouts: this.statusCounts.timeout ?? 0,
      crashes: this.crashes,
      hungKilled: this.hungKilled,
      restarts: this.restarts,
      startFailures: this.startFailures,
      latencyMs: this.latency.percentiles(),
      execMs: this.exec.percentiles(),
    };
  }

  /** Labels of the live runners (one per slot), e.g. for tests that must reach every runner. */
  runnerLabels(): string[] {
    return this.slots.filter((s) => s.conn).map((s) => s.conn!.channel.label);
  }

  /**
   * Stops the pool. With `drain` (the default) queued and running jobs finish first; without it
   * queued jobs are rejected with ExecutorClosedError and running ones end as sandbox-failure.
   */
  async close(options: { drain?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    const drain = options.drain ?? true;
    if (drain) {
      this.closing = true;
      const idle = this.idle();
      await (options.timeoutMs ? Promise.race([idle, sleep(options.timeoutMs)]) : idle);
    }
    this.closing = true;
    for (const s of this.slots) {
      if (s.restartTimer) clearTimeout(s.restartTimer);
      s.restartTimer = undefined;
      s.state = "dead"; // nothing more is sent; running jobs end as sandbox-failure when killed
      s.expectedExit = true;
    }
    await Promise.all(this.slots.map((s) => s.conn?.kill().catch(() => undefined)));
    const closed = () => new ExecutorClosedError("the executor pool was closed before this job ran");
    while (this.queueHead < this.queue.length) this.queue[this.queueHead++]!.reject(closed());
    for (const s of this.slots) for (const job of s.pinned.splice(0)) job.reject(closed());
    this.queue.length = 0;
    this.queueHead = 0;
    this.closed = true;
    await this.backend.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
