import { testBackends } from "@azr/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, seedRun, type TestApi } from "../../testing.ts";

describe.each(testBackends)("runs router (%s)", (backend) => {
  let t: TestApi;
  const as = async (who: keyof TestApi["tokens"]) => t.api.caller({ auth: await t.api.services.auth.authenticateToken(t.tokens[who], "test"), csrfOk: false });
  const snapshot = async () => JSON.stringify(await t.db.prisma.run.findMany({ orderBy: { id: "asc" } }), (_, v) => (typeof v === "bigint" ? v.toString() : v)) + (await t.db.prisma.runEvent.count());
  beforeAll(async () => {
    t = await startTestApi(backend);
  });
  afterAll(async () => t?.close());

  it("creates a run from a preset plus overrides, owned by the caller, with a creation event", async () => {
    const alice = await as("alice");
    const run = await alice.runs.create({ preset: "tiny-cpu", config: { azr: { batchSize: 8 }, schedule: { totalSteps: 5 } }, tags: ["demo"], name: "first" });
    expect(run).toMatchObject({ name: "first", status: "queued", ownerName: "alice", poolName: "local", modelName: "tiny", totalSteps: 5, tags: ["demo"] });
    expect((run.config as { azr: { batchSize: number } }).azr.batchSize).toBe(8);
    const events = await alice.events.list({ runId: run.id });
    expect(events.items).toHaveLength(1);
    expect(events.items[0]).toMatchObject({ kind: "system", actor: "user:alice", message: "created from preset tiny-cpu" });
  });

  it("refuses bad run configs naming the field, and changes nothing", async () => {
    const alice = await as("alice");
    const before = await snapshot();
    await expect(alice.runs.create({ preset: "tiny-cpu", config: { azr: { batchSize: 0 } } })).rejects.toThrow(/config\.azr\.batchSize/);
    await expect(alice.runs.create({ preset: "tiny-cpu", config: { image: "evil:latest" } })).rejects.toThrow(/config.*image|Unrecognized key/);
    await expect(alice.runs.create({ preset: "tiny-cpu", pool: "nope" })).rejects.toThrow("pool: unknown pool 'nope' (configured: local, gpu)");
    await expect(alice.runs.create({ preset: "qwen2.5-7b" })).rejects.toThrow(/config\.model\.name: 'Qwen\/Qwen2.5-7B' is not in the model catalogue/);
    // @ts-expect-error: not a preset
    await expect(alice.runs.create({ preset: "huge" })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^preset: must be one of/) });
    // @ts-expect-error: unknown field
    await expect(alice.runs.create({ preset: "tiny-cpu", owner: "bob" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(alice.runs.create({ preset: "tiny-cpu", tags: ["x".repeat(65)] })).rejects.toThrow(/tags\.0/);
    await expect(alice.runs.create({ preset: "tiny-cpu", notes: "n".repeat(10_001) })).rejects.toThrow(/notes/);
    expect(await snapshot()).toBe(before);
  });

  it("takes a periodic evaluation section whose benchmarks exist and have data", async () => {
    const alice = await as("alice");
    const run = await alice.runs.create({ preset: "tiny-cpu", config: { eval: { every: 5, benchmarks: ["fixture-math", "fixture-cruxeval-o"], limit: 20 } } });
    expect(run.config).toMatchObject({ eval: { every: 5, benchmarks: ["fixture-math", "fixture-cruxeval-o"], limit: 20 } });
    const before = await snapshot();
    await expect(alice.runs.create({ preset: "tiny-cpu", config: { eval: { every: 5, benchmarks: ["fixture-math", "humaneval"] } } })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/^config\.eval\.benchmarks\.1: unknown benchmark "humaneval"/),
    });
    await expect(alice.runs.create({ preset: "tiny-cpu", config: { eval: { every: 5, benchmarks: ["math500"] } } })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/^config\.eval\.benchmarks\.0: benchmark math500 has no source/),
    });
    await expect(alice.runs.create({ preset: "tiny-cpu", config: { eval: { every: 5 } } })).rejects.toThrow("config.eval.benchmarks: name at least one benchmark when eval.every is set");
    expect(await snapshot()).toBe(before);
  });

  it("lists with filters, sorting and cursor pagination that neither repeats nor skips", async () => {
    const alice = await as("alice");
    for (let i = 0; i < 7; i++) await seedRun(t.db, t.users.bob, { name: `page-${i}`, tags: ["paging"] });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await alice.runs.list({ tag: "paging", limit: 3, cursor, sort: "name", order: "asc" });
      seen.push(...page.items.map((r) => r.name));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `page-${i}`));
    // Lists leave out the (large) config; runs.get has it.
    const first = (await alice.runs.list({ tag: "paging", limit: 1 })).items[0]!;
    expect(first).not.toHaveProperty("config");
    expect((await alice.runs.get({ id: first.id })).config).toEqual({ seed: 1, azr: { batchSize: 4 } });
    expect((await alice.runs.list({ owner: "bob", name: "PAGE-3" })).items.map((r) => r.name)).toEqual(["page-3"]);
    expect((await alice.runs.list({ status: ["completed"], tag: "paging" })).items).toEqual([]);
    expect((await alice.runs.list({ pool: "gpu" })).items).toEqual([]);
  });

  it("lists each run exactly as runs.get shows it (same keys in the same order), less config and reproducibility", async () => {
    const alice = await as("alice");
    const parent = await seedRun(t.db, t.users.alice, { name: "50%_off", tags: ["shape"], status: "completed", steps: 10, checkpointSteps: [5] });
    const plain = await seedRun(t.db, t.users.bob, { name: "50x-off", tags: ["shape"] });
    const checkpoint = await t.db.prisma.checkpoint.findFirstOrThrow({ where: { runId: parent.id } });
    // Every nullable column set, a seed past 2^53, a millisecond in each timestamp.
    const full = await seedRun(t.db, t.users.alice, { name: "a\\b", tags: ["shape", "more"] });
    await t.db.prisma.run.update({
      where: { id: full.id },
      data: {
        status: "failed",
        seed: 2n ** 60n + 1n,
        notes: 'quote " and\nnewline',
        priority: -3,
        attempt: 2,
        parentRunId: parent.id,
        parentCheckpointId: checkpoint.id,
        failureReason: "worker lost",
        startedAt: new Date(Date.UTC(2026, 1, 3, 4, 5, 6, 7)),
        finishedAt: new Date(Date.UTC(2026, 1, 3, 5, 6, 7, 890)),
      },
    });
    for (const [i, run] of [parent, plain, full].entries()) await t.db.prisma.run.update({ where: { id: run.id }, data: { createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) } });
    const items = (await alice.runs.list({ tag: "shape" })).items;
    expect(items.map((r) => r.id)).toEqual([full.id, plain.id, parent.id]);
    for (const item of items) {
      const { config, reproducibility, ...summary } = await alice.runs.get({ id: item.id });
      expect(config).toBeDefined();
      expect(reproducibility).toBeDefined();
      expect(JSON.stringify(item)).toBe(JSON.stringify(summary));
    }
    expect(items[0]).toMatchObject({ seed: "1152921504606846977", startedAt: "2026-02-03T04:05:06.007Z", parentCheckpointId: checkpoint.id, ownerName: "alice" });
    // The name filter is a case-insensitive substring: %, _ and \ are literal characters.
    const named = async (name: string) => (await alice.runs.list({ tag: "shape", name })).items.map((r) => r.name);
    expect(await named("0%_O")).toEqual(["50%_off"]);
    expect(await named("_")).toEqual(["50%_off"]);
    expect(await named("a\\b")).toEqual(["a\\b"]);
    expect(await named("%")).toEqual(["50%_off"]);
    // A cursor run that no longer matches the filter still pages on from its place.
    await t.db.prisma.run.update({ where: { id: plain.id }, data: { tags: ["moved"] } });
    expect((await alice.runs.list({ tag: "shape", cursor: plain.id })).items.map((r) => r.id)).toEqual([parent.id]);
    expect((await alice.runs.list({ tag: "shape", cursor: "00000000-0000-4000-8000-000000000000" })).items).toEqual([]);
  });

  it("reader sees every run but cannot create or change one", async () => {
    const reader = await as("reader");
    const run = await seedRun(t.db, t.users.alice, { name: "read-me" });
    expect((await reader.runs.get({ id: run.id })).name).toBe("read-me");
    await expect(reader.runs.create({ preset: "tiny-cpu" })).rejects.toMatchObject({ code: "FORBIDDEN", message: "this needs a token with the write scope; yours has read" });
    await expect(reader.runs.cancel({ id: run.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("write changes only its owner's runs; admin changes any", async () => {
    const run = await seedRun(t.db, t.users.alice, { name: "alice's" });
    const before = await snapshot();
    const bob = await as("bob");
    await expect(bob.runs.cancel({ id: run.id })).rejects.toMatchObject({ code: "FORBIDDEN", message: `run ${run.id} belongs to another user; only its owner or an admin may change it` });
    await expect(bob.runs.update({ id: run.id, name: "mine now" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(bob.runs.delete({ id: run.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(bob.runs.archive({ id: run.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await snapshot()).toBe(before);
    const admin = await as("admin");
    expect((await admin.runs.update({ id: run.id, notes: "checked by admin" })).notes).toBe("checked by admin");
  });

  it("cancel and resume go through the state machine and record who did it", async () => {
    const alice = await as("alice");
    const run = await seedRun(t.db, t.users.alice, { status: "running" });
    const cancelled = await alice.runs.cancel({ id: run.id, reason: "wrong lr" });
    expect(cancelled.status).toBe("cancelled");
    await expect(alice.runs.cancel({ id: run.id })).rejects.toMatchObject({ code: "CONFLICT", message: `run ${run.id} is cancelled; it cannot be cancelled` });
    expect((await alice.runs.resume({ id: run.id })).status).toBe("queued");
    await expect(alice.runs.resume({ id: run.id })).rejects.toMatchObject({ code: "CONFLICT" });
    const events = await t.db.prisma.runEvent.findMany({ where: { runId: run.id }, orderBy: { id: "asc" } });
    expect(events.map((e) => [e.toStatus, e.actor, e.message])).toEqual([
      ["cancelled", "user:alice", "wrong lr"],
      ["queued", "user:alice", "resumed by user"],
    ]);
  });

  it("names unknown and malformed ids", async () => {
    const alice = await as("alice");
    const missing = "00000000-0000-4000-8000-000000000000";
    await expect(alice.runs.get({ id: missing })).rejects.toMatchObject({ code: "NOT_FOUND", message: `no run with id ${missing}` });
    await expect(alice.runs.cancel({ id: missing })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(alice.runs.get({ id: "1; DROP TABLE" })).rejects.toMatchObject({ code: "BAD_REQUEST", message: "id: must be a run id (uuid)" });
  });

  it("forks from a checkpoint (by id or step) into a new linked run owned by the caller", async () => {
    const parent = await seedRun(t.db, t.users.alice, { status: "completed", steps: 30, checkpointSteps: [10, 20, 30], config: (await (await as("alice")).runs.create({ preset: "tiny-cpu" })).config as object });
    const bob = await as("bob");
    const fork = await bob.runs.fork({ id: parent.id, fromStep: 25, config: { optim: { lr: 0.001 } } });
    expect(fork).toMatchObject({ parentRunId: parent.id, ownerName: "bob", status: "queued", currentStep: 20 });
    expect((fork.config as { optim: { lr: number } }).optim.lr).toBe(0.001);
    const cp = await t.db.prisma.checkpoint.findFirstOrThrow({ where: { runId: parent.id, step: 10 } });
    expect((await bob.runs.fork({ id: parent.id, checkpointId: cp.id })).parentCheckpointId).toBe(cp.id);
    await expect(bob.runs.fork({ id: parent.id, fromStep: 5 })).rejects.toMatchObject({ code: "NOT_FOUND", message: expect.stringMatching(/^fromStep: /) });
    await expect(bob.runs.fork({ id: parent.id, fromStep: 30, config: { optim: { lr: -1 } } })).rejects.toThrow(/config\.optim\.lr/);
    await expect(bob.runs.fork({ id: parent.id })).rejects.toThrow("checkpointId: give checkpointId or fromStep");
  });

  it("refuses to archive or delete a run that holds a worker; deletes a finished one", async () => {
    const alice = await as("alice");
    const running = await seedRun(t.db, t.users.alice, { status: "running" });
    await expect(alice.runs.delete({ id: running.id })).rejects.toMatchObject({ code: "CONFLICT", message: `run ${running.id} is running; stop it before deleting` });
    await expect(alice.runs.archive({ id: running.id })).rejects.toMatchObject({ code: "CONFLICT" });
    const done = await seedRun(t.db, t.users.alice, { status: "completed", steps: 3, keys: ["loss"] });
    const archived = await alice.runs.archive({ id: done.id });
    expect(archived.archivedAt).not.toBeNull();
    expect((await alice.runs.list({ archived: true })).items.map((r) => r.id)).toContain(done.id);
    expect((await alice.runs.list({})).items.map((r) => r.id)).not.toContain(done.id);
    await alice.runs.delete({ id: done.id });
    expect(await t.db.prisma.run.findUnique({ where: { id: done.id } })).toBeNull();
    expect(await t.db.prisma.metricSeries.count({ where: { runId: done.id } })).toBe(0);
  });

  it("uses the RunControl it is given (the orchestrator's hook)", async () => {
    const calls: string[] = [];
    const { DatabaseRunControl } = await import("../../run-control.ts");
    const base = new DatabaseRunControl(t.db.prisma);
    const control = {
      runCreated: async (run: { id: string }, actor: string) => void calls.push(`created ${run.id} by ${actor}`),
      cancel: async (id: string, actor: string, reason: string) => (calls.push(`cancel ${id}`), base.cancel(id, actor, reason)),
      resume: async (id: string, actor: string, reason: string) => (calls.push(`resume ${id}`), base.resume(id, actor, reason)),
    };
    const auth = await t.api.services.auth.authenticateToken(t.tokens.alice, "test");
    const { createCallerFactory } = await import("../../trpc.ts");
    const { appRouter } = await import("../../root.ts");
    const caller = createCallerFactory(appRouter)({ services: { ...t.api.services, runControl: control }, auth, csrfOk: false });
    const run = await caller.runs.create({ preset: "tiny-cpu" });
    await caller.runs.cancel({ id: run.id });
    expect(calls).toEqual([`created ${run.id} by user:alice`, `cancel ${run.id}`]);
  });
});
