import { createTestDatabase } from "@azr/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InProcessRunQueue, PgBossRunQueue, type QueuedRun, type RunQueue } from "./run-queue.ts";

const pools = [
  { name: "cpu", concurrency: 1 },
  { name: "wide", concurrency: 3 },
];

let pgUrl = "";
let drop: () => Promise<void> = async () => {};
beforeAll(async () => {
  const tdb = await createTestDatabase("postgres");
  pgUrl = tdb.target.kind === "postgres" ? tdb.target.url : "";
  drop = tdb.drop;
});
afterAll(async () => drop());

const makers: [string, () => RunQueue][] = [
  ["in-process", () => new InProcessRunQueue(pools)],
  ["pg-boss", () => new PgBossRunQueue(pgUrl, pools, { pollingIntervalSeconds: 0.5 })],
];

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const until = async (cond: () => boolean, ms = 20_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe.each(makers)("run queue (%s)", (_, make) => {
  it("serves higher priority first, FIFO within a priority, never over the pool's concurrency, once per queueing", async () => {
    const q = make();
    const order: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const jobs: QueuedRun[] = [
      { runId: "low", pool: "cpu", priority: 0, queuedAt: at(1) },
      { runId: "high", pool: "cpu", priority: 10, queuedAt: at(2) },
      { runId: "mid-a", pool: "cpu", priority: 5, queuedAt: at(3) },
      { runId: "mid-b", pool: "cpu", priority: 5, queuedAt: at(4) },
    ];
    for (const j of jobs) await q.enqueue(j);
    await q.enqueue(jobs[0]!); // same queueing again: no second job
    expect(await q.depth("cpu")).toBe(4);
    await q.start(async (job) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      order.push(job.runId);
      await new Promise((r) => setTimeout(r, 100));
      running--;
    });
    await until(() => order.length === 4);
    await new Promise((r) => setTimeout(r, 1500));
    await q.stop();
    expect(order).toEqual(["high", "mid-a", "mid-b", "low"]);
    expect(maxRunning).toBe(1);
  }, 60_000);

  it("runs up to `concurrency` attempts of one pool at once", async () => {
    const q = make();
    let running = 0;
    let maxRunning = 0;
    let finished = 0;
    await q.start(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 1500));
      running--;
      finished++;
    });
    for (let i = 0; i < 5; i++) await q.enqueue({ runId: `w${i}`, pool: "wide", priority: 0, queuedAt: at(10 + i) });
    await until(() => finished === 5, 40_000);
    await q.stop();
    expect(maxRunning).toBe(3);
  }, 60_000);
});

describe("pg-boss queue survives a restart", () => {
  it("a run queued before the server stopped is served by the next server", async () => {
    const first = new PgBossRunQueue(pgUrl, pools, { pollingIntervalSeconds: 0.5 });
    await first.start(async () => {
      throw new Error("the first server must not get it");
    });
    await first.stop();
    // Queued while no server is serving the pool (as a server that crashed right after accepting it).
    const sender = new PgBossRunQueue(pgUrl, pools);
    await sender.enqueue({ runId: "survivor", pool: "cpu", priority: 0, queuedAt: at(30) });
    await sender.stop();
    const second = new PgBossRunQueue(pgUrl, pools, { pollingIntervalSeconds: 0.5 });
    const got: string[] = [];
    await second.start(async (job) => {
      got.push(job.runId);
    });
    await until(() => got.includes("survivor"));
    await second.stop();
  }, 60_000);
});
