import { mkdirSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { testBackends } from "@azr/db/testing";
import { adminConfigSchema } from "@azr/orchestrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedRun, startTestApi, testAdminConfig, type TestApi } from "../testing.ts";
import { configDiff } from "./compare/compare.handler.ts";

// metrics, samples, compare, events and checkpoints: the read side of a run.

describe("config diff", () => {
  it("keeps only differing leaves, by nested path, arrays whole, missing as null", () => {
    expect(
      configDiff([
        { runId: "a", config: { azr: { batchSize: 4, taskTypes: ["deduction"] }, optim: { lr: 1 }, seed: 1 } },
        { runId: "b", config: { azr: { batchSize: 8, taskTypes: ["deduction"] }, optim: { lr: 1, extra: true }, seed: 1 } },
      ]),
    ).toEqual([
      { path: "azr.batchSize", values: { a: 4, b: 8 } },
      { path: "optim.extra", values: { a: null, b: true } },
    ]);
  });
});

describe.each(testBackends)("read side of runs (%s)", (backend) => {
  let t: TestApi;
  let ckRoot: string;
  const as = async (who: keyof TestApi["tokens"]) => t.api.caller({ auth: await t.api.services.auth.authenticateToken(t.tokens[who], "test"), csrfOk: false });
  let runA: string;
  let runB: string;
  beforeAll(async () => {
    ckRoot = mkdtempSync(path.join(tmpdir(), "azr-ck-"));
    t = await startTestApi(backend, { admin: adminConfigSchema.parse({ ...testAdminConfig, checkpoints: { root: ckRoot } }) });
    runA = (await seedRun(t.db, t.users.alice, { name: "A", status: "completed", steps: 2000, keys: ["reward/mean", "loss"], rollouts: 300, checkpointSteps: [100, 200], config: { azr: { batchSize: 4 }, seed: 1 } })).id;
    runB = (await seedRun(t.db, t.users.bob, { name: "B", status: "completed", steps: 1000, keys: ["reward/mean"], config: { azr: { batchSize: 8 }, seed: 1 } })).id;
  });
  afterAll(async () => {
    await t?.close();
    rmSync(ckRoot, { recursive: true, force: true });
  });

  it("downsamples a 2,000-point series to 500 min/max/mean buckets covering every point", async () => {
    const r = await (await as("reader")).metrics.series({ runIds: [runA], keys: ["reward/mean"], points: 500 });
    const s = r.series[0]!;
    expect(s.buckets).toHaveLength(500);
    expect(s.total).toBe(2000);
    expect(s.buckets.reduce((n, b) => n + b.count, 0)).toBe(2000);
    const v = (x: number) => Math.sin(x / 10) + x / 100;
    const first = s.buckets[0]!;
    const xs = [0, 1, 2, 3].map(v);
    expect(first).toMatchObject({ x: 0, xEnd: 3, count: 4 });
    expect(first.min).toBeCloseTo(Math.min(...xs), 9);
    expect(first.max).toBeCloseTo(Math.max(...xs), 9);
    expect(first.mean).toBeCloseTo(xs.reduce((a, b) => a + b) / 4, 9);
    expect(s.buckets[499]!.xEnd).toBe(1999);
    // Fewer points than buckets: every point comes back on its own.
    const whole = await (await as("reader")).metrics.series({ runIds: [runA], keys: ["loss"], points: 5000, from: 10, to: 19 });
    expect(whole.series[0]!.buckets.map((b) => b.x)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    // Time axis: wall time in epoch ms, one point per second in the fixture.
    const time = await (await as("reader")).metrics.series({ runIds: [runA], keys: ["loss"], axis: "time", points: 10 });
    expect(time.series[0]!.buckets).toHaveLength(10);
    expect(time.series[0]!.buckets[0]!.x).toBe(Date.UTC(2026, 0, 1));
  });

  it("latest values and keys come from the series rows; unknown runs and bad input are named", async () => {
    const reader = await as("reader");
    const latest = await reader.metrics.latest({ runIds: [runA, runB], keys: ["reward/mean"] });
    expect(latest.values.map((v) => [v.runId, v.step, v.count])).toEqual(
      [
        [runA, 1999, 2000],
        [runB, 999, 1000],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expect((await reader.metrics.keys({ runIds: [runA, runB] })).keys).toEqual([
      { key: "loss", runs: 1 },
      { key: "reward/mean", runs: 2 },
    ]);
    const missing = "00000000-0000-4000-8000-000000000000";
    await expect(reader.metrics.series({ runIds: [missing], keys: ["x"] })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(reader.metrics.series({ runIds: [runA], keys: ["x"], points: 1 })).rejects.toThrow(/^points: /);
    await expect(reader.metrics.series({ runIds: [runA], keys: Array.from({ length: 51 }, (_, i) => `k${i}`) })).rejects.toThrow(/^keys: /);
    await expect(reader.metrics.series({ runIds: [runA], keys: ["x"], from: 5, to: 1 })).rejects.toThrow("to: must not be below from");
  });

  it("filters rollouts (task type, role, step range, validity, executor status, reward) and searches text literally", async () => {
    const reader = await as("reader");
    const page = await reader.samples.rollouts({ runId: runA, taskType: ["deduction"], role: "propose", valid: true, rewardMin: 0.5, stepFrom: 0, stepTo: 10_000, limit: 200 });
    expect(page.items.length).toBeGreaterThan(0);
    for (const r of page.items) expect(r).toMatchObject({ taskType: "deduction", role: "propose", valid: true });
    for (const r of page.items) expect(r.reward!).toBeGreaterThanOrEqual(0.5);
    const errors = await reader.samples.rollouts({ runId: runA, executorStatus: "error", limit: 200 });
    expect(errors.items.every((r) => !r.valid)).toBe(true);
    // "50%_" must match literally: % and _ are not wildcards.
    const hits = await reader.samples.rollouts({ runId: runA, search: "50%_OFF", limit: 200 });
    expect(hits.items).toHaveLength(60);
    expect(hits.items.every((r) => r.response.includes("50%_off"))).toBe(true);
    expect((await reader.samples.rollouts({ runId: runA, search: "50%xoff" })).items).toHaveLength(0);
    // Pagination over a search walks every match once, newest first.
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const p = await reader.samples.rollouts({ runId: runA, search: "def f", limit: 25, cursor });
      ids.push(...p.items.map((r) => r.id));
      cursor = p.nextCursor ?? undefined;
    } while (cursor);
    expect(ids).toHaveLength(60);
    expect(new Set(ids).size).toBe(60);
    expect([...ids].sort((a, b) => Number(b) - Number(a))).toEqual(ids);
    await expect(reader.samples.rollouts({ runId: runA, search: "ab" })).rejects.toThrow(/^search: /);
    await expect(reader.samples.rollouts({ runId: runA, rewardMin: 1, rewardMax: 0 })).rejects.toThrow("rewardMax: must not be below rewardMin");
    await expect(reader.samples.rollouts({ runId: runA, cursor: "abc" })).rejects.toThrow(/^cursor: /);
  });

  it("lists buffer entries with filters", async () => {
    await t.db.prisma.bufferEntry.createMany({
      data: [
        { runId: runA, taskType: "deduction", program: "def f(x):\n    return x + 1", input: "1", output: "2", stepAdded: 0, origin: "seed" },
        { runId: runA, taskType: "induction", program: "def f(s):\n    return s[::-1]", stepAdded: 3, origin: "proposed" },
      ],
    });
    const reader = await as("reader");
    expect((await reader.samples.buffer({ runId: runA })).items).toHaveLength(2);
    const seeds = await reader.samples.buffer({ runId: runA, origin: "seed" });
    expect(seeds.items.map((b) => b.output)).toEqual(["2"]);
    expect((await reader.samples.buffer({ runId: runA, search: "[::-1]" })).items.map((b) => b.taskType)).toEqual(["induction"]);
    expect((await reader.samples.buffer({ runId: runA, stepFrom: 1 })).items).toHaveLength(1);
  });

  it("compares runs: config diff, a summary row for every (run, key), series on a shared range", async () => {
    const c = await (await as("reader")).compare.runs({ runIds: [runA, runB], keys: ["reward/mean", "loss"], points: 100 });
    expect(c.configDiff).toEqual([{ path: "azr.batchSize", values: { [runA]: 4, [runB]: 8 } }]);
    expect(c.summary).toHaveLength(4);
    const bLoss = c.summary.find((r) => r.runId === runB && r.key === "loss")!;
    expect(bLoss).toMatchObject({ final: null, count: 0 });
    const aReward = c.summary.find((r) => r.runId === runA && r.key === "reward/mean")!;
    expect(aReward).toMatchObject({ finalStep: 1999, count: 2000 });
    expect(aReward.max).toBeGreaterThan(aReward.min!);
    // Shared range 0..1999: run B's 1,000 points fill the first half of the buckets.
    const bSeries = c.series.find((s) => s.runId === runB && s.key === "reward/mean")!;
    const aSeries = c.series.find((s) => s.runId === runA && s.key === "reward/mean")!;
    expect(aSeries.buckets).toHaveLength(100);
    expect(bSeries.buckets).toHaveLength(50);
    expect(bSeries.buckets[10]!.x).toBe(aSeries.buckets[10]!.x);
    await expect((await as("reader")).compare.runs({ runIds: [runA] })).rejects.toThrow("runIds: compare needs at least 2 runs");
    const missing = "00000000-0000-4000-8000-000000000000";
    await expect((await as("reader")).compare.runs({ runIds: [runA, missing], keys: ["loss"] })).rejects.toMatchObject({ code: "NOT_FOUND", message: `no run with id ${missing}` });
    await expect((await as("reader")).compare.runs({ runIds: [runA, runA] })).rejects.toThrow("runIds: runs must not repeat");
  });

  it("events list in id order after a cursor", async () => {
    const reader = await as("reader");
    for (let i = 0; i < 5; i++) await t.db.prisma.runEvent.create({ data: { runId: runB, kind: "log", actor: "worker", message: `line ${i}` } });
    const all = await reader.events.list({ runId: runB, kinds: ["log"] });
    expect(all.items.map((e) => e.message)).toEqual(["line 0", "line 1", "line 2", "line 3", "line 4"]);
    const after = await reader.events.list({ runId: runB, afterId: all.items[2]!.id });
    expect(after.items.map((e) => e.message)).toEqual(["line 3", "line 4"]);
  });

  it("checkpoints: list, pin (owner only), delete refuses pinned and removes files inside the root only", async () => {
    const alice = await as("alice");
    const bob = await as("bob");
    const list = await alice.checkpoints.list({ runId: runA });
    expect(list.items.map((c) => c.step)).toEqual([100, 200]);
    const [c100, c200] = list.items as [(typeof list.items)[0], (typeof list.items)[0]];
    await expect(bob.checkpoints.pin({ id: c100.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect((await alice.checkpoints.pin({ id: c100.id })).pinned).toBe(true);
    await expect(alice.checkpoints.delete({ id: c100.id })).rejects.toMatchObject({ code: "CONFLICT", message: `checkpoint ${c100.id} is pinned; unpin it first` });
    const dir = path.join(ckRoot, c200.location);
    mkdirSync(dir, { recursive: true });
    const deleted = await alice.checkpoints.delete({ id: c200.id });
    expect(deleted.deletedAt).not.toBeNull();
    expect(existsSync(dir)).toBe(false);
    expect((await alice.checkpoints.list({ runId: runA })).items.map((c) => c.step)).toEqual([100]);
    await expect(alice.checkpoints.delete({ id: c200.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    // A location that escapes the root is never removed from disk.
    const outside = mkdtempSync(path.join(tmpdir(), "azr-outside-"));
    const evil = await t.db.prisma.checkpoint.create({ data: { runId: runA, step: 300, location: outside, contents: {}, sizeBytes: 1n } });
    await alice.checkpoints.delete({ id: evil.id });
    expect(existsSync(outside)).toBe(true);
    rmSync(outside, { recursive: true });
  });

  it("pools, models and workers from the admin configuration and the database", async () => {
    const reader = await as("reader");
    const pools = await reader.pools.list();
    expect(pools.items.map((p) => [p.name, p.launcher, p.concurrency])).toEqual([
      ["local", "local", 2],
      ["gpu", "local", 1],
    ]);
    expect((await reader.models.list()).items.map((m) => m.name)).toEqual(["tiny"]);
    await t.db.prisma.worker.create({ data: { runId: runA, attempt: 1, launcher: "local", status: "exited", exitCode: 0 } });
    expect((await reader.workers.list({ runId: runA })).items).toMatchObject([{ status: "exited", exitCode: 0 }]);
  });

  it("tokens: self-service within your own scope, admin for others, secrets shown once", async () => {
    const alice = await as("alice");
    const created = await alice.tokens.create({ name: "ci", scopes: ["read"], expiresInDays: 30 });
    expect(created.token).toMatch(/^azr_pat_/);
    expect(created.record).toMatchObject({ userName: "alice", scopes: ["read"], prefix: created.token.slice(0, 12) });
    const listed = await alice.tokens.list();
    expect(JSON.stringify(listed)).not.toContain(created.token);
    expect(listed.items.map((x) => x.name).sort()).toEqual(["alice-token", "ci"]);
    await expect(alice.tokens.create({ name: "root", scopes: ["admin"] })).rejects.toMatchObject({ code: "FORBIDDEN", message: "scopes: your token (write) cannot grant admin" });
    await expect(alice.tokens.create({ name: "x", scopes: ["read"], user: "bob" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(alice.tokens.list({ all: true })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const bobs = await (await as("bob")).tokens.list();
    await expect(alice.tokens.revoke({ id: bobs.items[0]!.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(alice.tokens.create({ name: "", scopes: [] })).rejects.toThrow("name: must not be empty; scopes: give at least one scope");
    const admin = await as("admin");
    const forCarol = await admin.tokens.create({ name: "carol's", scopes: ["write"], user: "carol" });
    expect(forCarol.record.userName).toBe("carol");
    expect((await admin.tokens.list({ all: true })).items.length).toBeGreaterThanOrEqual(6);
    expect((await alice.tokens.revoke({ id: created.record.id })).revokedAt).not.toBeNull();
    expect((await t.api.services.auth.authenticateToken(created.token, "t")).ok).toBe(false);
    expect((await alice.tokens.whoami()).userName).toBe("alice");
  });
});
