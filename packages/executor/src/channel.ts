import type { Readable, Writable } from "node:stream";

/** What a backend hands the pool for one started sandbox: the runner's protocol channel. */
export interface RunnerChannel {
  /** Requests, one JSON line each. */
  readonly input: Writable;
  /** Responses, one JSON line each; the first line is the runner's `ready` greeting. */
  readonly output: Readable;
  /** The runner's own diagnostics (never a job's output, which travels inside responses). */
  readonly diagnostics?: Readable;
  /** Resolves once the sandbox is gone, with a short description of how it ended. */
  readonly exited: Promise<string>;
  /** Tears the sandbox down (idempotent). */
  kill(): Promise<void>;
  /** For logs and metrics: pid, container id... */
  readonly label: string;
}

export interface RunnerGreeting {
  ready: true;
  protocol: number;
  python: string;
  pid: number;
  uid: number;
  hashSeed: string;
  /** Scoring pools: "name version" of each preloaded system module (see system-modules.ts). */
  preloaded?: string[];
  /** Whether job processes run under the runner's seccomp filter that stops them acting on the
   * runner by pid (prlimit, setpriority, sched_setaffinity...); false on machines whose system
   * call numbers the runner does not know (only x86_64 and aarch64 are known). */
  jobFilter?: boolean;
}

export class RunnerStartError extends Error {
  override name = "RunnerStartError";
}

/** Splits a byte stream into lines without assuming anything about their size. */
export class LineSplitter {
  private parts: Buffer[] = [];
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      let line: string;
      if (this.parts.length) {
        this.parts.push(piece);
        line = Buffer.concat(this.parts).toString("utf8");
        this.parts = [];
      } else {
        line = piece.toString("utf8");
      }
      start = nl + 1;
      if (line.length) this.onLine(line);
    }
    if (start < chunk.length) this.parts.push(chunk.subarray(start));
  }
}

/** Frames a request for the runner: a fixed-width decimal byte length, a newline, the JSON. */
export function frame(json: string): Buffer {
  const body = Buffer.from(json, "utf8");
  return Buffer.concat([Buffer.from(`${String(body.length).padStart(10, "0")}\n`, "ascii"), body]);
}

/**
 * One warm runner. The zygote handles one job at a time and answers in order; the pool may
 * write the next request before the current answer arrives (it waits in the pipe), so several
 * requests can be pending here.
 */
export class RunnerConnection {
  private readonly pending: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  private dead: string | undefined;
  private diag = "";
  readonly greeting: Promise<RunnerGreeting>;
  private greet!: { resolve: (g: RunnerGreeting) => void; reject: (e: Error) => void };
  private greeted = false;

  constructor(readonly channel: RunnerChannel) {
    this.greeting = new Promise<RunnerGreeting>((resolve, reject) => {
      this.greet = { resolve, reject };
    });
    // A start failure is reported through start(); avoid an unhandled rejection meanwhile.
    this.greeting.catch(() => undefined);
    const splitter = new LineSplitter((line) => this.onLine(line));
    channel.output.on("data", (chunk: Buffer) => splitter.push(chunk));
    channel.output.on("error", () => undefined);
    channel.input.on("error", () => undefined);
    channel.diagnostics?.on("data", (chunk: Buffer) => {
      this.diag = (this.diag + chunk.toString("utf8")).slice(-4000);
    });
    void channel.exited.then((how) => this.onExit(how));
  }

  get alive(): boolean {
    return this.dead === undefined;
  }

  /** Requests written and not yet answered. */
  get inFlight(): number {
    return this.pending.length;
  }

  /** Recent stderr of the runner process (bwrap or Python complaints), for error messages. */
  get diagnostics(): string {
    return this.diag.trim();
  }

  private onLine(line: string): void {
    if (!this.greeted) {
      this.greeted = true;
      try {
        const g = JSON.parse(line) as RunnerGreeting;
        if (g.ready !== true) throw new Error("no ready flag");
        this.greet.resolve(g);
      } catch {
        this.greet.reject(new RunnerStartError(`runner sent a bad greeting: ${line.slice(0, 200)}`));
      }
      return;
    }
    const p = this.pending.shift();
    if (p) p.resolve(line);
  }

  private onExit(how: string): void {
    if (this.dead !== undefined) return;
    const detail = this.diagnostics ? `${how}: ${this.diagnostics.slice(-500)}` : how;
    this.dead = detail;
    if (!this.greeted) {
      this.greeted = true;
      this.greet.reject(new RunnerStartError(`runner exited before it was ready (${detail})`));
    }
    for (const p of this.pending.splice(0)) p.reject(new Error(`runner exited during a job (${detail})`));
  }

  /** Sends one request; resolves with its response line. Rejects if the runner dies first. */
  request(json: string): Promise<string> {
    if (this.dead !== undefined) return Promise.reject(new Error(`runner is gone (${this.dead})`));
    return new Promise<string>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.channel.input.write(frame(json));
    });
  }

  async kill(): Promise<void> {
    await this.channel.kill();
  }
}
