// Tests over real worker processes (apps/worker, Debian's python3 + torch, the `tiny` backend on CPU).
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkerError, type WorkerClient } from "./client.ts";
import { WorkerHub, tokenVerifier } from "./hub.ts";
import { startLocalWorker, type StartedLocalWorker } from "./local.ts";
import { WORKER_APP_DIR, findPython, spawnLocalWorker } from "./spawn.ts";

const SMALL = { nLayer: 2, nHead: 4, dModel: 64, contextLength: 64 } as const;
const dataRoot = () => mkdtempSync(path.join(tmpdir(), "azr-worker-"));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/** Collects the worker's replies that belong to no pending request (errors to raw frames). */
function strays(client: WorkerClient): string[] {
  const seen: string[] = [];
  client.on("stray", (s) => seen.push(s));
  return seen;
}

/** The learning test's reward: fraction of the completion's characters that are the target. */
function reward(text: string, target: string): number {
  const chars = [...text];
  return chars.length ? chars.filter((c) => c === target).length / chars.length : 0;
}

describe("worker over the protocol", () => {
  let w: StartedLocalWorker;
  beforeAll(async () => {
    w = await startLocalWorker({ dataRoot: dataRoot(), graceSeconds: 5 });
    await w.client.load({ model: "tiny", tiny: SMALL, seed: 1, optimizer: { lr: 1e-3 } });
  });
  afterAll(async () => {
    await w?.close();
  });

  it("says hello with its backend, devices and versions", () => {
    const h = w.client.hello;
    expect(h.backend).toBe("tiny");
    expect(h.token).toBe(""); // the hub drops the token once verified
    expect(h.devices[0]?.kind).toBe("cpu");
    expect(h.versions.torch).toMatch(/^\d+\.\d+/);
    expect(h.pid).toBe(w.process.pid);
  });

  it("tokenizes, counts and generates with max tokens, stop strings and seeds honoured", async () => {
    const { ids } = await w.client.tokenize({ texts: ["hé", ""] });
    expect(ids).toEqual([[104, 195, 169], []]);
    expect((await w.client.countTokens({ texts: ["abc"] })).counts).toEqual([3]);
    const a = await w.client.generate({ prompts: ["x", "yz"], n: 3, maxTokens: 7, seed: 11, returnTokenIds: true });
    expect(a.rollouts).toHaveLength(6);
    for (const r of a.rollouts) {
      expect(r.completionTokens).toBeLessThanOrEqual(7);
      expect(r.tokenIds).toHaveLength(r.completionTokens);
      expect(r.finishReason === "length" ? r.completionTokens : 0).toBe(r.finishReason === "length" ? 7 : 0);
    }
    const b = await w.client.generate({ prompts: ["x", "yz"], n: 3, maxTokens: 7, seed: 11, store: false });
    expect(b.rollouts.map((r) => r.text)).toEqual(a.rollouts.map((r) => r.text));
    expect(b.rollouts.every((r) => r.rolloutId === null)).toBe(true);
    const c = await w.client.generate({ prompts: ["x", "yz"], n: 3, maxTokens: 7, seed: 12, store: false });
    expect(c.rollouts.map((r) => r.text)).not.toEqual(a.rollouts.map((r) => r.text));
    // a stop string: pick a character the seeded sample will produce, and stop on it
    const text = a.rollouts.find((r) => [...r.text].length >= 3 && !r.text.includes("\ufffd"))?.text;
    if (text) {
      const stop = [...text][1]!;
      const s = await w.client.generate({ prompts: ["x", "yz"], n: 3, maxTokens: 7, seed: 11, stop: [stop], store: false });
      const hit = s.rollouts.find((r) => r.stopString === stop)!;
      expect(hit.finishReason).toBe("stop");
      expect(hit.text).not.toContain(stop);
    }
    expect((await w.client.release({ all: true })).released).toBe(6);
  });

  it("answers malformed, unknown and oversized messages with errors and keeps serving", async () => {
    const seen = strays(w.client);
    w.client.sendRaw("this is not json");
    w.client.sendRaw(JSON.stringify({ type: "dance", id: "d1" }));
    w.client.sendRaw(JSON.stringify({ type: "generate", id: "g1", prompts: ["a"], n: 0 }));
    w.client.sendRaw(JSON.stringify({ type: "generate", id: "g2", prompts: Array(5000).fill("a") }));
    w.client.sendRaw(JSON.stringify({ type: "ping", id: "p1", extra: true }));
    w.client.sendRaw(JSON.stringify({ type: "chunk", id: "c1", seq: 3, last: true, data: "{}" }));
    w.client.sendRaw("[1,2,3]");
    expect(await waitFor(() => seen.length >= 7, 10_000)).toBe(true);
    expect(seen.join("\n")).toMatch(/error for no id: invalid: not JSON/);
    expect(seen).toContain("error for d1: unknown-type: type: unknown message type 'dance'");
    expect(seen.find((s) => s.startsWith("error for g1"))).toMatch(/invalid: n: must be >= 1/);
    expect(seen.find((s) => s.startsWith("error for g2"))).toMatch(/oversized: prompts/);
    expect(seen.find((s) => s.startsWith("error for p1"))).toMatch(/extra: unknown field/);
    expect(seen.find((s) => s.startsWith("error for c1"))).toMatch(/out of order/);
    // typed requests: unknown rollout ids, invalid parameters caught before sending
    await expect(w.client.train({ rollouts: [{ rolloutId: "r-nope", advantage: 1 }] })).rejects.toMatchObject({ code: "not-found" });
    await expect(w.client.generate({ prompts: [] })).rejects.toMatchObject({ code: "invalid-request" });
    await expect(w.client.save({ path: "../outside" })).rejects.toMatchObject({ code: "forbidden" });
    await expect(w.client.ping()).resolves.toEqual({});
    expect(alive(w.process.pid)).toBe(true);
  });

  it("streams large batches in chunks both ways", async () => {
    const hub = await WorkerHub.listen({ verifyToken: tokenVerifier("t"), chunkChars: 4096 });
    const proc = spawnLocalWorker({ url: hub.url, token: "t", dataRoot: dataRoot(), extraArgs: ["--chunk-chars", "4096"] });
    try {
      const client = await hub.waitForWorker(proc.workerId, 60_000);
      await client.load({ model: "tiny", tiny: SMALL });
      const texts = Array.from({ length: 200 }, (_, i) => `text ${i} "quoted" \\ ✓ ${"z".repeat(i)}`);
      const { ids } = await client.tokenize({ texts }); // ~100 kB each way
      expect(ids.map((x) => Buffer.from(x).toString("utf8"))).toEqual(texts);
      const g = await client.generate({ prompts: texts.slice(0, 40).map((t) => t.slice(0, 30)), n: 4, maxTokens: 16, returnLogprobs: true, seed: 1 });
      expect(g.rollouts).toHaveLength(160);
      expect(g.rollouts.every((r) => r.logprobs!.length === r.completionTokens)).toBe(true);
      await client.shutdown();
      expect((await proc.exited).code).toBe(0);
    } finally {
      await proc.stop();
      await hub.close();
    }
  });

  it("learns: REINFORCE with reward = fraction of a target byte gains >= 0.3 within 60 steps", async () => {
    // one thread: the model is small, and spinning OpenMP threads stall on a busy machine
    const r = await startLocalWorker({ dataRoot: dataRoot(), threads: 1 });
    try {
      await r.client.load({ model: "tiny", tiny: SMALL, seed: 7, optimizer: { lr: 3e-3 } });
      const started = Date.now();
      const means: number[] = [];
      for (let step = 0; step < 60; step++) {
        const g = await r.client.generate({ prompts: Array(8).fill("x"), n: 4, maxTokens: 16, temperature: 1 });
        const rewards = g.rollouts.map((x) => reward(x.text, "a"));
        const mean = rewards.reduce((s, v) => s + v, 0) / rewards.length;
        const std = Math.sqrt(rewards.reduce((s, v) => s + (v - mean) ** 2, 0) / rewards.length);
        means.push(mean);
        await r.client.train({
          rollouts: g.rollouts.map((x, i) => ({ rolloutId: x.rolloutId!, advantage: (rewards[i]! - mean) / (std + 1e-6) })),
          miniBatchSize: 32,
          microBatchSize: 16,
        });
      }
      const first = means.slice(0, 5).reduce((s, v) => s + v, 0) / 5;
      const last = means.slice(-5).reduce((s, v) => s + v, 0) / 5;
      expect(last - first).toBeGreaterThanOrEqual(0.3);
      expect(Date.now() - started).toBeLessThan(180_000);
    } finally {
      await r.close();
    }
  });

  it("restores a checkpoint that makes the same next update as the worker that never stopped", async () => {
    const root = dataRoot();
    const a = await startLocalWorker({ dataRoot: root });
    const b = await startLocalWorker({ dataRoot: root });
    const nextUpdate = async (c: WorkerClient) => {
      const g = await c.generate({ prompts: ["p", "q"], n: 2, maxTokens: 8 }); // unseeded: the RNG state counts
      const t = await c.train({ rollouts: g.rollouts.map((x, i) => ({ rolloutId: x.rolloutId!, advantage: i % 2 ? 1 : -0.5 })), miniBatchSize: 2 });
      const after = await c.generate({ prompts: ["p"], temperature: 0, maxTokens: 12, returnLogprobs: true, store: false });
      return { texts: g.rollouts.map((x) => x.text), train: { ...t, seconds: 0, tokensPerSecond: 0 }, after: after.rollouts[0] };
    };
    try {
      await a.client.load({ model: "tiny", tiny: SMALL, seed: 5, optimizer: { lr: 1e-2 } });
      const g = await a.client.generate({ prompts: ["p"], n: 4, maxTokens: 8 });
      await a.client.train({ rollouts: g.rollouts.map((x) => ({ rolloutId: x.rolloutId!, advantage: 1 })) });
      expect((await a.client.save({ path: "ckpt/a" })).step).toBe(1);
      expect((await b.client.restore({ path: "ckpt/a" })).step).toBe(1);
      const ua = await nextUpdate(a.client);
      const ub = await nextUpdate(b.client);
      expect(ub).toEqual(ua);
      expect(ua.train.step).toBe(3);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("worker lifetime", () => {
  it("exits when its control plane disappears past the grace period", async () => {
    const hub = await WorkerHub.listen({ verifyToken: tokenVerifier("secret") });
    const proc = spawnLocalWorker({ url: hub.url, token: "secret", dataRoot: dataRoot(), graceSeconds: 1 });
    try {
      await hub.waitForWorker(proc.workerId, 60_000);
      const closedAt = Date.now();
      await hub.close();
      const { code } = await proc.exited;
      expect(code).toBe(3);
      expect(Date.now() - closedAt).toBeLessThan(15_000);
    } finally {
      await proc.stop();
    }
  });

  it("reports a worker that cannot start", async () => {
    await expect(startLocalWorker({ dataRoot: dataRoot(), python: "/nonexistent/python3" })).rejects.toThrow(/could not start \/nonexistent\/python3/);
  });

  it("refuses a worker with a wrong token; the worker then gives up and exits", async () => {
    const hub = await WorkerHub.listen({ verifyToken: tokenVerifier("right") });
    const rejected: string[] = [];
    hub.on("rejected", (r) => rejected.push(r));
    const proc = spawnLocalWorker({ url: hub.url, token: "wrong", dataRoot: dataRoot(), graceSeconds: 2 });
    try {
      expect((await proc.exited).code).toBe(3);
      expect(rejected.length).toBeGreaterThan(0);
      expect(rejected[0]).toMatch(/token refused/);
      expect(hub.workers()).toHaveLength(0);
    } finally {
      await proc.stop();
      await hub.close();
    }
  });

  it("exits when its parent process dies", async () => {
    const hub = await WorkerHub.listen({ verifyToken: tokenVerifier("t") });
    const root = dataRoot();
    // a shell parent that starts the worker in the background and reports its pid
    const cmd = `${findPython()} -m azr_worker --url ${hub.url} --data-root ${root} --worker-id orphan --exit-with-parent --grace 60 & echo $!; wait`;
    const parent = spawn("/bin/sh", ["-c", cmd], { cwd: WORKER_APP_DIR, env: { PATH: "/usr/bin:/bin", PYTHONPATH: WORKER_APP_DIR, AZR_WORKER_TOKEN: "t" }, stdio: ["ignore", "pipe", "ignore"] });
    try {
      const pid = await new Promise<number>((resolve) => parent.stdout!.once("data", (d) => resolve(Number(String(d).trim()))));
      await hub.waitForWorker("orphan", 60_000);
      parent.kill("SIGKILL");
      expect(await waitFor(() => !alive(pid), 10_000)).toBe(true);
    } finally {
      parent.kill("SIGKILL");
      await hub.close();
    }
  });

  it("keeps its state across a dropped connection and delivers the reply in flight", async () => {
    const hub = await WorkerHub.listen({ verifyToken: tokenVerifier("t") });
    // grace 1 s, connected for longer than that: the grace period counts from the drop
    const proc = spawnLocalWorker({ url: hub.url, token: "t", dataRoot: dataRoot(), graceSeconds: 1 });
    try {
      const client = await hub.waitForWorker(proc.workerId, 60_000);
      await client.load({ model: "tiny", tiny: SMALL });
      await new Promise((r) => setTimeout(r, 1500));
      const reconnected = new Promise<boolean>((resolve) => client.once("reconnect", (h) => resolve(h.reconnect)));
      const pending = client.generate({ prompts: Array(64).fill("x"), n: 4, maxTokens: 48, seed: 3 });
      // drop the socket under the request; the worker redials with the same id and flushes its reply
      (client as unknown as { socket: { terminate(): void } }).socket.terminate();
      // a request that times out before the connection is back is never sent later
      await expect(client.release({ all: true }, { timeoutMs: 1 })).rejects.toMatchObject({ code: "timeout" });
      const g = await pending;
      expect(await reconnected).toBe(true);
      expect(g.rollouts).toHaveLength(256);
      await new Promise((r) => setTimeout(r, 200));
      expect((await client.stats()).rollouts).toBe(256);
      await client.shutdown();
      expect((await proc.exited).code).toBe(0);
    } finally {
      await proc.stop();
      await hub.close();
    }
  });

  it("drops a silent connection as dead; the worker redials when it wakes", async () => {
    const hub = await WorkerHub.listen({ verifyToken: tokenVerifier("t"), staleAfterMs: 1500 });
    const proc = spawnLocalWorker({ url: hub.url, token: "t", dataRoot: dataRoot(), heartbeatSeconds: 0.2, graceSeconds: 30 });
    try {
      const client = await hub.waitForWorker(proc.workerId, 60_000);
      const dropped = new Promise<void>((resolve) => client.once("disconnect", () => resolve()));
      const back = new Promise<boolean>((resolve) => client.once("reconnect", (h) => resolve(h.reconnect)));
      process.kill(proc.pid, "SIGSTOP"); // alive, connected, silent
      await dropped;
      process.kill(proc.pid, "SIGCONT");
      expect(await back).toBe(true);
      await expect(client.ping()).resolves.toEqual({});
      await client.shutdown();
    } finally {
      process.kill(proc.pid, "SIGCONT");
      await proc.stop();
      await hub.close();
    }
  });

  it("fails the requests in flight when a new process takes over the worker id", async () => {
    const hub = await WorkerHub.listen({ verifyToken: tokenVerifier("t") });
    const root = dataRoot();
    const first = spawnLocalWorker({ url: hub.url, token: "t", dataRoot: root, workerId: "same" });
    let second: ReturnType<typeof spawnLocalWorker> | undefined;
    try {
      const client = await hub.waitForWorker("same", 60_000);
      await client.load({ model: "tiny", tiny: SMALL });
      const pending = client.generate({ prompts: Array(64).fill("x"), n: 8, maxTokens: 60 }).catch((e: unknown) => e);
      first.child.kill("SIGKILL");
      await first.exited;
      second = spawnLocalWorker({ url: hub.url, token: "t", dataRoot: root, workerId: "same" });
      expect(await pending).toMatchObject({ code: "disconnected", message: expect.stringMatching(/restarted/) });
      expect(hub.workers()).toHaveLength(1);
      expect(client.hello.pid).toBe(second.pid);
      await expect(client.stats()).resolves.toMatchObject({ model: null, step: 0 });
      await client.shutdown();
    } finally {
      await first.stop();
      await second?.stop();
      await hub.close();
    }
  });

  it("sends heartbeats naming the request being served, and progress", async () => {
    const hub = await WorkerHub.listen({ verifyToken: tokenVerifier("t") });
    const proc = spawnLocalWorker({ url: hub.url, token: "t", dataRoot: dataRoot(), heartbeatSeconds: 0.1 });
    try {
      const client = await hub.waitForWorker(proc.workerId, 60_000);
      await client.load({ model: "tiny", tiny: SMALL });
      const busy: (string | null)[] = [];
      client.on("heartbeat", (b) => busy.push(b));
      const progress: [number, number][] = [];
      const g = await client.generate({ prompts: Array(64).fill("x"), n: 8, maxTokens: 24, seed: 1 }, { onProgress: (d, t) => progress.push([d, t]) });
      const t = await client.train({ rollouts: g.rollouts.map((r) => ({ rolloutId: r.rolloutId!, advantage: 1 })), miniBatchSize: 128, microBatchSize: 64 }, { onProgress: (d, t) => progress.push([d, t]) });
      expect(t.optimizerSteps).toBe(4);
      expect(busy.some((b) => b?.startsWith("generate-"))).toBe(true);
      expect(progress).toContainEqual([512, 512]); // generation: rows done / rows
      expect(progress.slice(-4)).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]); // training: optimizer steps
      await client.shutdown();
    } finally {
      await proc.stop();
      await hub.close();
    }
  });

  it("times out a request without a reply and names it", async () => {
    const hub = await WorkerHub.listen({ verifyToken: tokenVerifier("t") });
    const proc = spawnLocalWorker({ url: hub.url, token: "t", dataRoot: dataRoot() });
    try {
      const client = await hub.waitForWorker(proc.workerId, 60_000);
      await client.load({ model: "tiny", tiny: SMALL });
      // 1 ms cannot cover a generation's round trip; the reply that comes later is dropped as stray
      const late: string[] = strays(client);
      const err = await client.generate({ prompts: Array(16).fill("x"), n: 4, maxTokens: 32 }, { timeoutMs: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerError);
      expect(err).toMatchObject({ code: "timeout" });
      await expect(client.ping({ timeoutMs: 120_000 })).resolves.toEqual({});
      expect(late.some((s) => /result for unknown id generate-/.test(s))).toBe(true);
      await client.shutdown();
    } finally {
      await proc.stop();
      await hub.close();
    }
  });
});

/** Drives one worker through training steps, SFT and a save/restore; returns what it reported. */
async function trainingTrace(c: WorkerClient) {
  expect((await c.load({ model: "tiny", tiny: SMALL, seed: 4, optimizer: { lr: 1e-2 } })).parameters).toBeGreaterThan(0);
  const out: unknown[] = [];
  const step = async () => {
    // greedy generation does not depend on how the rows are split across ranks
    const g = await c.generate({ prompts: ["a", "bb", "ccc", "d", "e"], n: 1, maxTokens: 10, temperature: 0 });
    const t = await c.train({
      rollouts: g.rollouts.map((x, i) => ({ rolloutId: x.rolloutId!, advantage: i % 2 ? 1 : -1 })),
      miniBatchSize: 5,
      microBatchSize: 2,
    });
    return { texts: g.rollouts.map((x) => x.text), loss: t.loss, gradNorms: t.gradNorms, tokens: t.tokens, entropy: t.entropy };
  };
  out.push(await step(), await step());
  const s = await c.sft({ texts: ["hello world", "abc", "def f(x): return x"], batchSize: 3, microBatchSize: 1, epochs: 3 });
  out.push({ sft: s.losses });
  await c.save({ path: "ckpt" });
  out.push(await step());
  expect((await c.restore({ path: "ckpt" })).step).toBe(5); // 2 updates + 3 sft steps
  out.push(await step()); // the same step again from the checkpoint
  return { out, worldSize: c.hello.worldSize };
}

/** Same structure, numbers equal to 4 decimals. */
function expectSameTrace(a: unknown, b: unknown) {
  const num = /-?\d+\.\d+(e-?\d+)?/g;
  expect(JSON.stringify(b).replace(num, "#")).toBe(JSON.stringify(a).replace(num, "#"));
  const fa = JSON.stringify(a).match(num)!.map(Number);
  const fb = JSON.stringify(b).match(num)!.map(Number);
  fa.forEach((v, i) => expect(fb[i]).toBeCloseTo(v, 4));
}

describe("several processes in one worker (torchrun, two gloo processes on CPU)", () => {
  it("DDP makes the same updates as a one-process worker, and checkpoints the same", async () => {
    const one = await startLocalWorker({ dataRoot: dataRoot(), threads: 1 });
    const two = await startLocalWorker({ dataRoot: dataRoot(), nproc: 2, threads: 1, connectTimeoutMs: 120_000 });
    try {
      const [a, b] = await Promise.all([trainingTrace(one.client), trainingTrace(two.client)]);
      expect([a.worldSize, b.worldSize]).toEqual([1, 2]);
      expectSameTrace(a.out, b.out);
      expect(a.out[4]).toEqual(a.out[3]); // restored: the same step gives the same result
    } finally {
      await one.close();
      await two.close();
    }
  });

  // FSDP needs torch >= 2.6; Debian's python3-torch is 1.13. Point AZR_TORCH2_PYTHON at an
  // interpreter with torch >= 2.6 (CPU is enough) to run it.
  const torch2 = process.env.AZR_TORCH2_PYTHON;
  it.skipIf(!torch2)("FSDP (torch >= 2.6) makes the same updates as a one-process worker, and checkpoints the same", async () => {
    const one = await startLocalWorker({ dataRoot: dataRoot(), python: torch2, threads: 1 });
    const two = await startLocalWorker({ dataRoot: dataRoot(), python: torch2, nproc: 2, threads: 1, extraArgs: ["--parallel", "fsdp"], connectTimeoutMs: 120_000 });
    try {
      const [a, b] = await Promise.all([trainingTrace(one.client), trainingTrace(two.client)]);
      expect([a.worldSize, b.worldSize]).toEqual([1, 2]);
      expectSameTrace(a.out, b.out);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it("refuses FSDP on torch < 2.6 with a clear error", async () => {
    const w = await startLocalWorker({ dataRoot: dataRoot(), nproc: 2, extraArgs: ["--parallel", "fsdp"], connectTimeoutMs: 120_000 });
    try {
      const torchVersion = w.client.hello.versions.torch!;
      const [major, minor] = torchVersion.split(".").map(Number) as [number, number];
      if (major > 2 || (major === 2 && minor >= 6)) return; // this interpreter can shard: covered above
      await expect(w.client.load({ model: "tiny", tiny: SMALL })).rejects.toMatchObject({ code: "backend-unavailable", message: expect.stringMatching(/FSDP needs torch >= 2\.6/) });
    } finally {
      await w.close();
    }
  });
});
