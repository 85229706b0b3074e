import { createHash, timingSafeEqual } from "node:crypto";
import { EventEmitter } from "node:events";
import type { AddressInfo } from "node:net";
import { WORKER_LIMITS, helloMessageSchema, type WorkerHello } from "@azr/protocol";
import { WebSocketServer, type WebSocket } from "ws";
import { WorkerClient, WorkerError, type WorkerClientOptions } from "./client.ts";

export interface WorkerHubOptions extends WorkerClientOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  path?: string;
  /** Decides whether a worker may join; called with the token from its hello. */
  verifyToken: (token: string, hello: WorkerHello) => boolean | Promise<boolean>;
  /** A connection that has not said a valid hello by then is closed. */
  helloTimeoutMs?: number;
}

export interface WorkerHubEvents {
  /** A new worker joined (a reconnection of a known worker id emits nothing here). */
  worker: [client: WorkerClient];
  /** A connection was refused (bad hello, bad token). */
  rejected: [reason: string];
}

/** A verifier comparing tokens in constant time. */
export function tokenVerifier(expected: string): (token: string) => boolean {
  const want = createHash("sha256").update(expected).digest();
  return (token) => timingSafeEqual(createHash("sha256").update(token).digest(), want);
}

/**
 * The WebSocket endpoint workers dial into. Each worker says hello with its token; the hub checks
 * it with `verifyToken` and hands out one WorkerClient per worker id. A worker that reconnects with
 * the same id gets its existing client back (pending requests survive the drop).
 */
export class WorkerHub extends EventEmitter<WorkerHubEvents> {
  private readonly clients = new Map<string, WorkerClient>();
  private readonly waiters: { workerId?: string; resolve: (c: WorkerClient) => void }[] = [];

  private constructor(
    private readonly server: WebSocketServer,
    private readonly opts: WorkerHubOptions,
    readonly url: string,
  ) {
    super();
    server.on("connection", (socket) => this.onConnection(socket));
  }

  static async listen(opts: WorkerHubOptions): Promise<WorkerHub> {
    const host = opts.host ?? "127.0.0.1";
    const path = opts.path ?? "/worker";
    const chunk = opts.chunkChars ?? WORKER_LIMITS.chunkChars;
    const server = new WebSocketServer({ host, port: opts.port ?? 0, path, maxPayload: 4 * chunk + 65536 });
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    const port = (server.address() as AddressInfo).port;
    return new WorkerHub(server, opts, `ws://${host.includes(":") ? `[${host}]` : host}:${port}${path}`);
  }

  /** Connected or known workers. */
  workers(): WorkerClient[] {
    return [...this.clients.values()];
  }

  /** Resolves with the worker's client once it has said hello (at once if it already has). */
  waitForWorker(workerId?: string, timeoutMs = 120_000): Promise<WorkerClient> {
    const known = workerId ? this.clients.get(workerId) : this.clients.values().next().value;
    if (known) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const waiter = {
        workerId,
        resolve: (c: WorkerClient) => {
          clearTimeout(timer);
          resolve(c);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new WorkerError("timeout", `no worker${workerId ? ` ${workerId}` : ""} connected within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Forgets a worker (its client is closed). */
  remove(workerId: string): void {
    this.clients.get(workerId)?.close();
    this.clients.delete(workerId);
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    for (const s of this.server.clients) s.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(socket: WebSocket): void {
    const timer = setTimeout(() => {
      this.emit("rejected", "no hello in time");
      socket.close(4000, "hello expected");
    }, this.opts.helloTimeoutMs ?? 10_000);
    // Frames the worker sends right after its hello (a reconnecting worker flushes its replies)
    // are held until the client is attached.
    const early: string[] = [];
    const hold = (data: unknown, isBinary: boolean) => {
      if (!isBinary) early.push(String(data));
    };
    socket.once("message", async (data, isBinary) => {
      clearTimeout(timer);
      socket.on("message", hold);
      let hello: WorkerHello;
      try {
        if (isBinary) throw new Error("binary frame");
        const parsed = helloMessageSchema.safeParse(JSON.parse(data.toString()));
        if (!parsed.success) throw new Error(`invalid hello: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`);
        hello = parsed.data;
      } catch (e) {
        this.emit("rejected", (e as Error).message);
        socket.close(4002, "invalid hello");
        return;
      }
      let ok = false;
      try {
        ok = await this.opts.verifyToken(hello.token, hello);
      } catch {
        ok = false;
      }
      if (!ok) {
        this.emit("rejected", `worker ${hello.workerId}: token refused`);
        socket.close(4001, "unauthorized");
        return;
      }
      const redacted = { ...hello, token: "" };
      socket.off("message", hold);
      const known = this.clients.get(hello.workerId);
      if (known) {
        known.attach(socket, redacted, early);
        return;
      }
      const client = new WorkerClient(redacted, socket, this.opts, early);
      this.clients.set(hello.workerId, client);
      this.emit("worker", client);
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        const w = this.waiters[i]!;
        if (!w.workerId || w.workerId === hello.workerId) {
          this.waiters.splice(i, 1);
          w.resolve(client);
        }
      }
    });
  }
}
