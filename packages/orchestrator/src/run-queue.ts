import { createHash } from "node:crypto";
import PgBoss from "pg-boss";

// Runs wait here for capacity in their pool. Two implementations behind one interface:
//  - PgBossRunQueue (PostgreSQL): pg-boss 10, the newest release that runs on Node 20 (11+ needs
//    Node 22). Chosen over graphile-worker 0.16 for per-job priorities and idempotent sends by id,
//    which map directly onto run priority and "enqueue a run once"; the queue survives a server
//    restart because it lives in the database (schema `pgboss`).
//  - InProcessRunQueue (embedded PGlite): PGlite has one connection, and serving it to pg-boss over
//    pglite-socket would interleave pg-boss's statements with Prisma's own direct use of that
//    connection (pglite-prisma-adapter). So the embedded mode keeps the queue in memory and
//    rebuilds it at start from the runs table (status `queued`, by priority then queue time):
//    the database stays the record, so a restart loses no queued run either.

export interface QueuedRun {
  /** The run's id; for an eval job (kind `eval`), the job's id. */
  runId: string;
  /** What waits: a run (default) or an eval job. Both take one slot of their pool. */
  kind?: "run" | "eval";
  pool: string;
  priority: number;
  /** When the run entered the queue (its `queuedAt`): with runId, identifies this queueing. */
  queuedAt: Date;
}

export interface PoolCapacity {
  name: string;
  concurrency: number;
}

export interface RunQueue {
  readonly kind: "pg-boss" | "in-process";
  /** Longest an attempt may hold its slot before yielding it at a checkpoint (ms). */
  readonly sliceMs: number;
  start(handler: (run: QueuedRun) => Promise<void>): Promise<void>;
  /** Idempotent for the same (runId, queuedAt). */
  enqueue(run: QueuedRun): Promise<void>;
  depth(pool: string): Promise<number>;
  stop(): Promise<void>;
}

export class InProcessRunQueue implements RunQueue {
  readonly kind = "in-process" as const;
  readonly sliceMs = Number.POSITIVE_INFINITY;
  private readonly waiting = new Map<string, QueuedRun[]>();
  private readonly active = new Map<string, number>();
  private readonly seen = new Set<string>();
  private handler: ((run: QueuedRun) => Promise<void>) | undefined;
  private stopped = false;

  constructor(private readonly pools: PoolCapacity[]) {
    for (const p of pools) {
      this.waiting.set(p.name, []);
      this.active.set(p.name, 0);
    }
  }

  async start(handler: (run: QueuedRun) => Promise<void>): Promise<void> {
    this.handler = handler;
    for (const p of this.pools) this.dispatch(p.name);
  }

  async enqueue(run: QueuedRun): Promise<void> {
    const list = this.waiting.get(run.pool);
    if (!list) throw new Error(`unknown pool "${run.pool}"`);
    const key = `${run.runId}@${run.queuedAt.toISOString()}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    list.push(run);
    // Highest priority first; equal priorities in queue order.
    list.sort((a, b) => b.priority - a.priority || a.queuedAt.getTime() - b.queuedAt.getTime());
    this.dispatch(run.pool);
  }

  async depth(pool: string): Promise<number> {
    return this.waiting.get(pool)?.length ?? 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  private dispatch(pool: string) {
    const capacity = this.pools.find((p) => p.name === pool)?.concurrency ?? 0;
    const list = this.waiting.get(pool)!;
    while (this.handler && !this.stopped && list.length > 0 && this.active.get(pool)! < capacity) {
      const run = list.shift()!;
      this.active.set(pool, this.active.get(pool)! + 1);
      void this.handler(run)
        .catch(() => {})
        .finally(() => {
          this.active.set(pool, this.active.get(pool)! - 1);
          this.dispatch(pool);
        });
    }
  }
}

const queueName = (pool: string) => `azr-pool-${pool}`;

/** A uuid derived from the queueing, so re-sending the same queued run is a no-op. */
function jobId(run: QueuedRun): string {
  const h = createHash("sha256").update(`${run.runId}@${run.queuedAt.toISOString()}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class PgBossRunQueue implements RunQueue {
  readonly kind = "pg-boss" as const;
  /** pg-boss expires an active job after < 24 h; an attempt yields its slot well before. */
  readonly sliceMs: number;
  private readonly boss: PgBoss;

  constructor(
    connectionString: string,
    private readonly pools: PoolCapacity[],
    options: { sliceHours?: number; pollingIntervalSeconds?: number } = {},
  ) {
    const sliceHours = options.sliceHours ?? 22;
    if (!(sliceHours > 0 && sliceHours < 23)) throw new Error("sliceHours must be between 0 and 23 (pg-boss expires jobs after 24 h)");
    this.sliceMs = sliceHours * 3_600_000;
    this.polling = options.pollingIntervalSeconds ?? 1;
    this.boss = new PgBoss({ connectionString, max: 4, schema: "pgboss", application_name: "azr-scheduler" });
    this.boss.on("error", () => {}); // transient maintenance errors are retried by pg-boss itself
  }

  private readonly polling: number;
  private connected: Promise<void> | undefined;

  /** Connects and creates the pools' queues; enqueueing works from then on, before `start`. */
  private connect(): Promise<void> {
    this.connected ??= (async () => {
      await this.boss.start();
      for (const pool of this.pools) {
        const name = queueName(pool.name);
        await this.boss.createQueue(name, { name, retryLimit: 0, expireInHours: 23 });
      }
    })();
    return this.connected;
  }

  async start(handler: (run: QueuedRun) => Promise<void>): Promise<void> {
    await this.connect();
    for (const pool of this.pools) {
      const name = queueName(pool.name);
      // One pg-boss worker per slot: each holds at most one run at a time.
      for (let i = 0; i < pool.concurrency; i++) {
        await this.boss.work<{ runId: string; kind?: "run" | "eval"; pool: string; priority: number; queuedAt: string }>(
          name,
          { batchSize: 1, pollingIntervalSeconds: this.polling, priority: true },
          async ([job]) => {
            if (!job) return;
            await handler({ ...job.data, queuedAt: new Date(job.data.queuedAt) });
          },
        );
      }
    }
  }

  async enqueue(run: QueuedRun): Promise<void> {
    await this.connect();
    await this.boss.send(
      queueName(run.pool),
      { runId: run.runId, ...(run.kind === "eval" ? { kind: "eval" as const } : {}), pool: run.pool, priority: run.priority, queuedAt: run.queuedAt.toISOString() },
      { id: jobId(run), priority: run.priority, retryLimit: 0, expireInHours: 23 },
    );
  }

  async depth(pool: string): Promise<number> {
    await this.connect();
    return this.boss.getQueueSize(queueName(pool));
  }

  /** Jobs a crashed server left active are failed, so their runs can be requeued afresh. */
  async failOrphans(): Promise<number> {
    await this.connect();
    let n = 0;
    for (const pool of this.pools) {
      const name = queueName(pool.name);
      const rows = await this.boss.getDb().executeSql(`SELECT id FROM pgboss.job WHERE name = $1 AND state = 'active'`, [name]);
      const ids = (rows as { rows: { id: string }[] }).rows.map((r) => r.id);
      for (const id of ids) await this.boss.fail(name, id, { reason: "server restarted" });
      n += ids.length;
    }
    return n;
  }

  async stop(): Promise<void> {
    if (this.connected) await this.boss.stop({ graceful: true, wait: true, timeout: 30_000 });
  }
}
