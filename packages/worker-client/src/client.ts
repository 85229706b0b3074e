import { EventEmitter } from "node:events";
import {
  ChunkAssembler,
  WORKER_LIMITS,
  chunkMessageSchema,
  encodeFrames,
  errorMessageSchema,
  heartbeatMessageSchema,
  progressMessageSchema,
  resultMessageSchema,
  workerRequestSchemas,
  type WorkerErrorCode,
  type WorkerHello,
  type WorkerOp,
  type WorkerRequestOf,
  type WorkerResultOf,
} from "@azr/protocol";
import type WebSocket from "ws";

/** Why a request failed: a worker error code, or a client-side condition. */
export type WorkerClientErrorCode = WorkerErrorCode | "timeout" | "disconnected" | "invalid-request" | "invalid-reply" | "closed";

export class WorkerError extends Error {
  constructor(
    readonly code: WorkerClientErrorCode,
    message: string,
    readonly requestId: string | null = null,
  ) {
    super(`${code}: ${message}`);
    this.name = "WorkerError";
  }
}

/** A request's parameters: the request without `type` and `id`. */
export type WorkerParams<K extends WorkerOp> = Omit<WorkerRequestOf<K>, "type" | "id">;

export interface RequestOptions {
  timeoutMs?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface WorkerClientOptions {
  /** Default timeout of long operations (load, generate, train, sft, save, restore). */
  longTimeoutMs?: number;
  /** Default timeout of the others. */
  shortTimeoutMs?: number;
  /** Pending requests fail with `disconnected` when the worker has not reconnected by then. */
  reconnectTimeoutMs?: number;
  /** A connection that carries nothing (no heartbeat, no reply) for this long is dropped as dead;
   * the worker then redials. Workers send heartbeats every few seconds. Default 60 s. */
  staleAfterMs?: number;
  chunkChars?: number;
}

const LONG_OPS = new Set<WorkerOp>(["load", "generate", "train", "sft", "save", "restore"]);

interface Pending {
  op: WorkerOp;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  onProgress?: (done: number, total: number) => void;
}

export interface WorkerClientEvents {
  heartbeat: [busy: string | null];
  disconnect: [];
  reconnect: [hello: WorkerHello];
  /** A frame the client could not use (a reply to an unknown or expired id, an invalid message). */
  stray: [reason: string];
}

/**
 * The typed client for one worker. Requests carry ids; each gets exactly one reply or fails with a
 * WorkerError (worker error, timeout, disconnect). A dropped connection is not fatal: the worker
 * keeps its state and redials, its replies to requests in flight are delivered after the
 * reconnect, and requests made meanwhile are sent once it is back.
 */
export class WorkerClient extends EventEmitter<WorkerClientEvents> {
  hello: WorkerHello;
  lastSeen = Date.now();
  private socket: WebSocket | null = null;
  private readonly pending = new Map<string, Pending>();
  /** Frames waiting for a connection, with the request they belong to. */
  private queued: { id: string | null; frame: string }[] = [];
  private assembler = new ChunkAssembler();
  private nextId = 0;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly liveness: NodeJS.Timeout;
  private readonly opts: Required<WorkerClientOptions>;

  constructor(hello: WorkerHello, socket: WebSocket, opts: WorkerClientOptions = {}, early: string[] = []) {
    super();
    this.hello = hello;
    this.opts = {
      longTimeoutMs: opts.longTimeoutMs ?? 60 * 60_000,
      shortTimeoutMs: opts.shortTimeoutMs ?? 60_000,
      reconnectTimeoutMs: opts.reconnectTimeoutMs ?? 60_000,
      staleAfterMs: opts.staleAfterMs ?? 60_000,
      chunkChars: opts.chunkChars ?? WORKER_LIMITS.chunkChars,
    };
    this.attach(socket, undefined, early);
    this.liveness = setInterval(() => {
      if (this.socket && Date.now() - this.lastSeen > this.opts.staleAfterMs) this.socket.terminate();
    }, Math.max(100, Math.floor(this.opts.staleAfterMs / 4)));
    this.liveness.unref();
  }

  get workerId(): string {
    return this.hello.workerId;
  }

  get connected(): boolean {
    return this.socket !== null;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Used by the hub: a (re)connected socket for this worker. */
  attach(socket: WebSocket, hello?: WorkerHello, early: string[] = []): void {
    if (this.socket && this.socket !== socket) this.socket.terminate();
    this.socket = socket;
    this.assembler = new ChunkAssembler();
    this.lastSeen = Date.now();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    socket.on("message", (data, isBinary) => {
      if (isBinary) return this.emit("stray", "binary frame");
      this.onFrame(data.toString());
    });
    socket.on("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.closed) return;
      this.emit("disconnect");
      this.reconnectTimer = setTimeout(() => this.failAll("disconnected", "worker did not reconnect in time"), this.opts.reconnectTimeoutMs);
    });
    if (hello) {
      // A new process under the same worker id has none of the old one's state or requests.
      const restarted = hello.pid !== this.hello.pid || !hello.reconnect;
      this.hello = hello;
      if (restarted) this.failAll("disconnected", "the worker restarted; its state and the requests in flight are lost");
      this.emit("reconnect", hello);
    }
    for (const frame of early) this.onFrame(frame);
    const waiting = this.queued;
    this.queued = [];
    for (const q of waiting) this.sendFrame(q.frame, q.id);
  }

  /** Sends a request and resolves with its typed result. */
  request<K extends WorkerOp>(op: K, params: WorkerParams<K>, options: RequestOptions = {}): Promise<WorkerResultOf<K>> {
    if (this.closed) return Promise.reject(new WorkerError("closed", "client is closed"));
    const id = `${op}-${++this.nextId}-${Date.now().toString(36)}`;
    const message = { ...params, type: op, id };
    const parsed = workerRequestSchemas[op].safeParse(message);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.join(".") || "request";
      return Promise.reject(new WorkerError("invalid-request", `${where}: ${issue?.message ?? "invalid"}`, id));
    }
    const timeoutMs = options.timeoutMs ?? (LONG_OPS.has(op) ? this.opts.longTimeoutMs : this.opts.shortTimeoutMs);
    return new Promise<WorkerResultOf<K>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.unqueue(id);
        reject(new WorkerError("timeout", `${op} got no reply within ${timeoutMs} ms`, id));
      }, timeoutMs);
      this.pending.set(id, { op, resolve: resolve as (v: unknown) => void, reject, timer, onProgress: options.onProgress });
      // Send what the caller wrote (defaults are applied by the worker, from the same schemas).
      for (const frame of encodeFrames(message, this.opts.chunkChars)) this.sendFrame(frame, id);
    });
  }

  /** Sends raw text as one frame (tests use it to send malformed messages). */
  sendRaw(frame: string): void {
    this.sendFrame(frame, null);
  }

  private sendFrame(frame: string, id: string | null): void {
    if (this.socket && this.socket.readyState === this.socket.OPEN) this.socket.send(frame);
    else this.queued.push({ id, frame });
  }

  /** A request that failed before it was sent must never run later. */
  private unqueue(id: string): void {
    this.queued = this.queued.filter((q) => q.id !== id);
  }

  load = (p: WorkerParams<"load">, o?: RequestOptions) => this.request("load", p, o);
  tokenize = (p: WorkerParams<"tokenize">, o?: RequestOptions) => this.request("tokenize", p, o);
  countTokens = (p: WorkerParams<"countTokens">, o?: RequestOptions) => this.request("countTokens", p, o);
  generate = (p: WorkerParams<"generate">, o?: RequestOptions) => this.request("generate", p, o);
  train = (p: WorkerParams<"train">, o?: RequestOptions) => this.request("train", p, o);
  sft = (p: WorkerParams<"sft">, o?: RequestOptions) => this.request("sft", p, o);
  release = (p: WorkerParams<"release">, o?: RequestOptions) => this.request("release", p, o);
  save = (p: WorkerParams<"save">, o?: RequestOptions) => this.request("save", p, o);
  restore = (p: WorkerParams<"restore">, o?: RequestOptions) => this.request("restore", p, o);
  stats = (o?: RequestOptions) => this.request("stats", {}, o);
  ping = (o?: RequestOptions) => this.request("ping", {}, o);
  shutdown = (o?: RequestOptions) => this.request("shutdown", {}, o);

  /** Stops using this worker: pending requests fail, the socket closes (the worker then exits after its grace period). */
  close(): void {
    this.closed = true;
    clearInterval(this.liveness);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.failAll("closed", "client closed");
    this.socket?.close(1000, "closed");
    this.socket = null;
  }

  private failAll(code: WorkerClientErrorCode, message: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new WorkerError(code, message, id));
    }
    this.pending.clear();
    this.queued = [];
  }

  private onFrame(text: string): void {
    this.lastSeen = Date.now();
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return void this.emit("stray", "frame is not JSON");
    }
    const chunk = chunkMessageSchema.safeParse(msg);
    if (chunk.success) {
      let whole: string | null;
      try {
        whole = this.assembler.push(chunk.data);
      } catch (e) {
        const p = this.pending.get(chunk.data.id);
        if (p) this.settle(chunk.data.id, new WorkerError("invalid-reply", (e as Error).message, chunk.data.id));
        return;
      }
      if (whole !== null) this.onFrame(whole);
      return;
    }
    const type = (msg as { type?: unknown } | null)?.type;
    if (type === "result") {
      const parsed = resultMessageSchema.safeParse(msg);
      const id = (msg as { id?: unknown }).id;
      if (!parsed.success) {
        if (typeof id === "string" && this.pending.has(id)) {
          this.settle(id, new WorkerError("invalid-reply", `result does not match the schema: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`, id));
        } else this.emit("stray", "invalid result");
        return;
      }
      const p = this.pending.get(parsed.data.id);
      if (!p) return void this.emit("stray", `result for unknown id ${parsed.data.id}`);
      if (p.op !== parsed.data.op) return this.settle(parsed.data.id, new WorkerError("invalid-reply", `expected a ${p.op} result, got ${parsed.data.op}`, parsed.data.id));
      this.settle(parsed.data.id, null, parsed.data.result);
    } else if (type === "error") {
      const parsed = errorMessageSchema.safeParse(msg);
      if (!parsed.success) return void this.emit("stray", "invalid error message");
      const { id, code, message } = parsed.data;
      if (id !== null && this.pending.has(id)) this.settle(id, new WorkerError(code, message, id));
      else this.emit("stray", `error for ${id ?? "no id"}: ${code}: ${message}`);
    } else if (type === "heartbeat") {
      const parsed = heartbeatMessageSchema.safeParse(msg);
      if (parsed.success) this.emit("heartbeat", parsed.data.busy);
    } else if (type === "progress") {
      const parsed = progressMessageSchema.safeParse(msg);
      if (parsed.success) this.pending.get(parsed.data.id)?.onProgress?.(parsed.data.done, parsed.data.total);
    } else {
      this.emit("stray", `unexpected message type ${String(type)}`);
    }
  }

  private settle(id: string, error: Error | null, value?: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (error) p.reject(error);
    else p.resolve(value);
  }
}
