import { FIXTURES_DIR } from "@azr/eval";
import { testBackends } from "@azr/db/testing";
import { adminConfigSchema, completeEval, type StoredProblem } from "@azr/orchestrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedRun, startTestApi, testAdminConfig, type TestApi } from "../../testing.ts";

const MISSING = "00000000-0000-4000-8000-000000000000";

describe.each(testBackends)("evals router (%s)", (backend) => {
  let t: TestApi;
  const as = async (who: keyof TestApi["tokens"]) => t.api.caller({ auth: await t.api.services.auth.authenticateToken(t.tokens[who], "test"), csrfOk: false });
  const snapshot = async () =>
    JSON.stringify([await t.db.prisma.evalResult.findMany({ orderBy: { id: "asc" } }), await t.db.prisma.evalProblemResult.count()]);

  beforeAll(async () => {
    // The admin file points the built-in humaneval-plus at a copy of the data (here: the fixture).
    const admin = adminConfigSchema.parse({ ...testAdminConfig, benchmarks: { "humaneval-plus": { source: `${FIXTURES_DIR}humaneval-plus.jsonl` } } });
    t = await startTestApi(backend, { admin });
  });
  afterAll(async () => t?.close());

  /** A completed evaluation whose problem i was solved when `solved[i]`, as a job leaves it. */
  async function completedEval(o: { benchmark: string; solved: boolean[]; runId?: string; answer?: string; createdById?: string }) {
    const row = await t.db.prisma.evalResult.create({
      data: { benchmark: o.benchmark, modelName: "tiny", runId: o.runId ?? null, status: "running", createdById: o.createdById ?? t.users.alice, jobId: crypto.randomUUID() },
    });
    const problems: StoredProblem[] = o.solved.map((ok, i) => ({
      problemId: `p${i}`,
      index: i,
      prompt: `problem ${i}`,
      correct: ok ? 1 : 0,
      n: 1,
      samples: [{ completion: `${o.answer ?? "answer"} ${i}`, extracted: String(i), correct: ok, status: ok ? "pass" : "wrong-answer", detail: ok ? null : "expected 7" }],
    }));
    const solved = o.solved.filter(Boolean).length;
    expect(await completeEval(t.db.prisma, row.id, { "pass@1": solved / o.solved.length, accuracy: solved / o.solved.length, solved, total: o.solved.length }, problems)).toBe(true);
    return row;
  }

  it("starts an eval job on a run's newest checkpoint (or the one at a step), one queued evaluation per benchmark", async () => {
    const alice = await as("alice");
    const run = await seedRun(t.db, t.users.bob, { status: "completed", steps: 20, checkpointSteps: [10, 20] });
    const started = await alice.evals.start({ runId: run.id, benchmarks: ["fixture-math", "fixture-cruxeval-o"], overrides: { decoding: { maxTokens: 256 }, limit: 3 } });
    expect(started.items).toHaveLength(2);
    const ckpt20 = await t.db.prisma.checkpoint.findFirstOrThrow({ where: { runId: run.id, step: 20 } });
    for (const e of started.items) {
      expect(e).toMatchObject({ jobId: started.jobId, runId: run.id, step: 20, checkpointId: ckpt20.id, modelName: "tiny", status: "queued", origin: "user", poolName: "local", createdByName: "alice", problemsDone: 0 });
      // Greedy by default, the azr template for a trained checkpoint, the overrides applied.
      expect(e.settings).toMatchObject({ template: "azr", overrides: { limit: 3 }, definition: { name: e.benchmark, limit: 3, decoding: { temperature: 0, maxTokens: 256, n: 1 } } });
    }
    const at10 = await alice.evals.start({ runId: run.id, step: 10, benchmarks: ["fixture-math"] });
    expect(at10.items[0]).toMatchObject({ step: 10 });
    expect((await alice.evals.start({ runId: run.id, checkpointId: ckpt20.id, benchmarks: ["fixture-math"], template: "base" })).items[0]).toMatchObject({ step: 20, settings: { template: "base" } });
  });

  it("starts an eval job on a catalogue model with the base-model template; an admin-configured source makes a built-in benchmark usable", async () => {
    const bob = await as("bob");
    const started = await bob.evals.start({ model: "tiny", benchmarks: ["humaneval-plus"], pool: "gpu", priority: 5 });
    expect(started.items[0]).toMatchObject({ runId: null, step: null, modelName: "tiny", benchmark: "humaneval-plus", poolName: "gpu", priority: 5, settings: { template: "base", definition: { source: `${FIXTURES_DIR}humaneval-plus.jsonl` } } });
    const { items } = await bob.evals.benchmarks();
    expect(items.find((b) => b.name === "humaneval-plus")).toMatchObject({ origin: "configured", source: `${FIXTURES_DIR}humaneval-plus.jsonl`, kind: "code" });
    expect(items.find((b) => b.name === "math500")).toMatchObject({ origin: "builtin", source: null, kind: "math", decoding: { temperature: 0 } });
    expect(items.find((b) => b.name === "fixture-cruxeval-i")).toMatchObject({ kind: "io", format: "cruxeval" });
  });

  it("refuses unknown runs, checkpoints, models and benchmarks, benchmarks without data and bad overrides with the right codes, and changes nothing", async () => {
    const alice = await as("alice");
    const run = await seedRun(t.db, t.users.alice, { status: "completed", steps: 20, checkpointSteps: [10, 20] });
    const bare = await seedRun(t.db, t.users.alice, { status: "running" });
    const before = await snapshot();
    const start = (input: Record<string, unknown>) => alice.evals.start({ benchmarks: ["fixture-math"], ...input } as never);
    await expect(start({ runId: MISSING })).rejects.toMatchObject({ code: "NOT_FOUND", message: `no run with id ${MISSING}` });
    await expect(start({ runId: bare.id })).rejects.toMatchObject({ code: "NOT_FOUND", message: `runId: run ${bare.id} has no checkpoint to evaluate yet` });
    await expect(start({ runId: run.id, step: 15 })).rejects.toMatchObject({ code: "NOT_FOUND", message: `step: run ${run.id} has no checkpoint at step 15 (its checkpoints are at steps 10, 20)` });
    await expect(start({ runId: run.id, checkpointId: MISSING })).rejects.toMatchObject({ code: "NOT_FOUND", message: expect.stringMatching(/^checkpointId: /) });
    await expect(start({ model: "gpt-9" })).rejects.toMatchObject({ code: "NOT_FOUND", message: "model: 'gpt-9' is not in the model catalogue (configured: tiny)" });
    await expect(start({ runId: run.id, benchmarks: ["fixture-math", "nope"] })).rejects.toMatchObject({ code: "NOT_FOUND", message: expect.stringMatching(/^benchmarks\.1 \(nope\): unknown benchmark "nope"; known: .*fixture-math/) });
    await expect(start({ runId: run.id, benchmarks: ["math500"] })).rejects.toMatchObject({
      code: "PRECONDITION_FAILED",
      message: expect.stringMatching(/^benchmarks\.0 \(math500\): benchmark math500 has no source: nothing is downloaded/),
    });
    await expect(start({ runId: run.id, overrides: { decoding: { temperature: 5 } } })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^overrides\.decoding\.temperature: /) });
    await expect(start({ runId: run.id, overrides: { decoding: { n: 0 } } })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^overrides\.decoding\.n: /) });
    await expect(start({ runId: run.id, overrides: { dateWindow: { from: "2024-01-01" } } })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^benchmarks\.0 \(fixture-math\): invalid benchmark definition: dateWindow: only livecodebench/) });
    await expect(start({ runId: run.id, overrides: { image: "x" } })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^overrides: Unrecognized key/) });
    await expect(start({ runId: run.id, overrides: { source: "/etc/passwd" } })).rejects.toMatchObject({ code: "FORBIDDEN", message: expect.stringMatching(/^overrides\.source: only an admin/) });
    await expect((await as("admin")).evals.start({ runId: run.id, benchmarks: ["fixture-math"], overrides: { source: "/no/such/file.jsonl" } })).rejects.toMatchObject({
      code: "PRECONDITION_FAILED",
      message: "benchmarks.0 (fixture-math): benchmark fixture-math: its source /no/such/file.jsonl does not exist",
    });
    await expect(start({ runId: run.id, model: "tiny" })).rejects.toMatchObject({ code: "BAD_REQUEST", message: "runId: give runId (a run's checkpoint) or model (a catalogue model), not both" });
    await expect(start({})).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(start({ model: "tiny", step: 3 })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^step: /) });
    await expect(start({ runId: run.id, benchmarks: [] })).rejects.toMatchObject({ code: "BAD_REQUEST", message: "benchmarks: name at least one benchmark" });
    await expect(start({ runId: run.id, benchmarks: ["Fixture_Math"] })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^benchmarks\.0: must be a benchmark name/) });
    await expect(start({ runId: run.id, benchmarks: ["fixture-math", "fixture-math"] })).rejects.toMatchObject({ code: "BAD_REQUEST", message: "benchmarks: benchmarks must not repeat" });
    await expect(start({ runId: run.id, template: "chat" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(start({ runId: run.id, pool: "nope" })).rejects.toMatchObject({ code: "BAD_REQUEST", message: "pool: unknown pool 'nope' (configured: local, gpu)" });
    await expect((await as("reader")).evals.start({ runId: run.id, benchmarks: ["fixture-math"] })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await snapshot()).toBe(before);
  });

  it("lists by run, runs, benchmark, model, status and origin with cursor pages", async () => {
    const reader = await as("reader");
    const run = await seedRun(t.db, t.users.alice, { status: "completed", steps: 5, checkpointSteps: [5] });
    const alice = await as("alice");
    for (let i = 0; i < 3; i++) await alice.evals.start({ runId: run.id, benchmarks: ["fixture-math", "fixture-cruxeval-i"] });
    const all = await reader.evals.list({ runId: run.id, limit: 200 });
    expect(all.items).toHaveLength(6);
    expect(all.items[0]).not.toHaveProperty("settings");
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await reader.evals.list({ runId: run.id, limit: 4, cursor });
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(all.items.map((e) => e.id));
    expect((await reader.evals.list({ runIds: [run.id, MISSING], benchmark: "fixture-cruxeval-i" })).items).toHaveLength(3);
    expect((await reader.evals.list({ runId: run.id, status: ["completed"] })).items).toEqual([]);
    expect((await reader.evals.list({ runId: run.id, origin: "periodic" })).items).toEqual([]);
    expect((await reader.evals.list({ model: "tiny", runId: run.id, jobId: all.items[0]!.jobId! })).items).toHaveLength(2);
    await expect(reader.evals.list({ runId: "nope" })).rejects.toMatchObject({ code: "BAD_REQUEST", message: "runId: must be a run id (uuid)" });
  });

  it("gets an evaluation with its per-problem results, a page at a time, optionally only (un)solved ones", async () => {
    const reader = await as("reader");
    const e = await completedEval({ benchmark: "fixture-math", solved: [true, false, true, false, false] });
    const first = await reader.evals.get({ id: e.id, limit: 2 });
    expect(first).toMatchObject({ id: e.id, status: "completed", scores: { "pass@1": 0.4, solved: 2, total: 5 }, problemsTotal: 5, problemsDone: 5 });
    expect(first.problems.items.map((p) => p.problemId)).toEqual(["p0", "p1"]);
    expect(first.problems.items[1]).toEqual({
      problemId: "p1",
      index: 1,
      correct: 0,
      n: 1,
      solved: false,
      prompt: "problem 1",
      samples: [{ completion: "answer 1", extracted: "1", correct: false, status: "wrong-answer", detail: "expected 7" }],
    });
    const second = await reader.evals.get({ id: e.id, limit: 2, afterIndex: first.problems.nextAfterIndex! });
    expect(second.problems.items.map((p) => p.problemId)).toEqual(["p2", "p3"]);
    const last = await reader.evals.get({ id: e.id, limit: 2, afterIndex: second.problems.nextAfterIndex! });
    expect(last.problems).toEqual({ items: [expect.objectContaining({ problemId: "p4" })], nextAfterIndex: null });
    expect((await reader.evals.get({ id: e.id, solved: false })).problems.items.map((p) => p.problemId)).toEqual(["p1", "p3", "p4"]);
    await expect(reader.evals.get({ id: MISSING })).rejects.toMatchObject({ code: "NOT_FOUND", message: `no evaluation with id ${MISSING}` });
  });

  it("compares two evaluations problem by problem: solved by A only, B only, both, neither, with both answers", async () => {
    const reader = await as("reader");
    const a = await completedEval({ benchmark: "fixture-math", solved: [true, true, false, false, true, false], answer: "A says" });
    const b = await completedEval({ benchmark: "fixture-math", solved: [true, false, true, false, false, false], answer: "B says" });
    const cmp = await reader.evals.compare({ a: a.id, b: b.id });
    expect(cmp.counts).toEqual({ aOnly: 2, bOnly: 1, both: 1, neither: 2, missingInA: 0, missingInB: 0 });
    expect(cmp.items.map((i) => [i.problemId, i.category])).toEqual([
      ["p0", "both"],
      ["p1", "a-only"],
      ["p2", "b-only"],
      ["p3", "neither"],
      ["p4", "a-only"],
      ["p5", "neither"],
    ]);
    expect(cmp.items[1]).toMatchObject({ prompt: "problem 1", a: { solved: true, samples: [{ completion: "A says 1", status: "pass" }] }, b: { solved: false, samples: [{ completion: "B says 1", status: "wrong-answer" }] } });
    const onlyA = await reader.evals.compare({ a: a.id, b: b.id, category: "a-only", limit: 1 });
    expect(onlyA.items.map((i) => i.problemId)).toEqual(["p1"]);
    expect((await reader.evals.compare({ a: a.id, b: b.id, category: "a-only", limit: 1, afterIndex: onlyA.nextAfterIndex! })).items.map((i) => i.problemId)).toEqual(["p4"]);
    // Swapping the sides swaps the categories.
    expect((await reader.evals.compare({ a: b.id, b: a.id })).counts).toEqual({ aOnly: 1, bOnly: 2, both: 1, neither: 2, missingInA: 0, missingInB: 0 });
    // Problems only one side has (a shorter limit) are counted, not compared.
    const short = await completedEval({ benchmark: "fixture-math", solved: [false, true] });
    expect((await reader.evals.compare({ a: a.id, b: short.id })).counts).toEqual({ aOnly: 1, bOnly: 0, both: 1, neither: 0, missingInA: 0, missingInB: 4 });

    const other = await completedEval({ benchmark: "fixture-cruxeval-o", solved: [true] });
    await expect(reader.evals.compare({ a: a.id, b: other.id })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^b: evaluation .* is of fixture-cruxeval-o, evaluation .* of fixture-math/) });
    const queued = (await (await as("alice")).evals.start({ model: "tiny", benchmarks: ["fixture-math"] })).items[0]!;
    await expect(reader.evals.compare({ a: a.id, b: queued.id })).rejects.toMatchObject({ code: "CONFLICT", message: `b: evaluation ${queued.id} is queued; only completed evaluations have per-problem results` });
    await expect(reader.evals.compare({ a: a.id, b: a.id })).rejects.toMatchObject({ code: "BAD_REQUEST", message: "b: compare two different evaluations" });
    await expect(reader.evals.compare({ a: MISSING, b: a.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("cancels: the starter or an admin, only unfinished user evaluations; others are refused and nothing changes", async () => {
    const alice = await as("alice");
    const started = await alice.evals.start({ model: "tiny", benchmarks: ["fixture-math", "fixture-cruxeval-o"] });
    const [first, second] = started.items;
    const run = await seedRun(t.db, t.users.alice, { status: "running" });
    const periodic = await t.db.prisma.evalResult.create({ data: { runId: run.id, benchmark: "fixture-math", origin: "periodic", status: "running", step: 1 } });
    const done = await completedEval({ benchmark: "fixture-math", solved: [true] });
    const before = await snapshot();
    await expect((await as("bob")).evals.cancel({ id: first!.id })).rejects.toMatchObject({ code: "FORBIDDEN", message: `evaluation ${first!.id} was started by another user; only they or an admin may cancel it` });
    await expect((await as("reader")).evals.cancel({ id: first!.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(alice.evals.cancel({ id: MISSING })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(alice.evals.cancel({ id: periodic.id })).rejects.toMatchObject({ code: "CONFLICT", message: `evaluation ${periodic.id} is part of run ${run.id}'s training; cancel the run instead` });
    await expect(alice.evals.cancel({ id: done.id })).rejects.toMatchObject({ code: "CONFLICT", message: `evaluation ${done.id} is completed; it cannot be cancelled` });
    expect(await snapshot()).toBe(before);
    const cancelled = await alice.evals.cancel({ id: first!.id, reason: "wrong benchmark" });
    expect(cancelled).toMatchObject({ status: "cancelled", error: "wrong benchmark (user:alice)" });
    expect(cancelled.finishedAt).not.toBeNull();
    expect((await (await as("admin")).evals.cancel({ id: second!.id })).status).toBe("cancelled");
    await expect(alice.evals.cancel({ id: first!.id })).rejects.toMatchObject({ code: "CONFLICT", message: `evaluation ${first!.id} is cancelled; it cannot be cancelled` });
  });

  it("watch streams status and progress until every evaluation has finished", async () => {
    const reader = await as("reader");
    const { items } = await (await as("alice")).evals.start({ model: "tiny", benchmarks: ["fixture-math"] });
    const id = items[0]!.id;
    const stream = await reader.evals.watch({ ids: [id] });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const update of stream) seen.push(update.items.map((e) => `${e.status} ${e.problemsDone}/${e.problemsTotal}`).join(","));
    })();
    await new Promise((r) => setTimeout(r, 300));
    await t.db.prisma.evalResult.update({ where: { id }, data: { status: "running", problemsTotal: 9, problemsDone: 4 } });
    t.api.services.notifier.notify(id);
    await new Promise((r) => setTimeout(r, 300));
    await t.db.prisma.evalResult.update({ where: { id }, data: { status: "failed", error: "worker lost" } });
    t.api.services.notifier.notify(id);
    await reading;
    expect(seen).toEqual(["queued 0/0", "running 4/9", "failed 4/9"]);
  });
});

describe("evals over REST", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi("postgres");
  });
  afterAll(async () => t?.close());
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const r = await fetch(`${t.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  it("start, list, get, compare and cancel have routes and an OpenAPI entry", async () => {
    const run = await seedRun(t.db, t.users.alice, { status: "completed", steps: 3, checkpointSteps: [3] });
    const started = await call("POST", "/api/v1/evals", t.tokens.alice, { runId: run.id, step: 3, benchmarks: ["fixture-math"] });
    expect(started.status).toBe(200);
    const id = (started.body.items as { id: string }[])[0]!.id;
    const list = await call("GET", `/api/v1/evals?runId=${run.id}&benchmark=fixture-math`, t.tokens.reader);
    expect((list.body.items as { id: string }[]).map((e) => e.id)).toEqual([id]);
    const got = await call("GET", `/api/v1/evals/${id}?limit=5`, t.tokens.reader);
    expect(got.body).toMatchObject({ id, status: "queued", problems: { items: [], nextAfterIndex: null } });
    const cmp = await call("GET", `/api/v1/evals/${id}/compare/${id}`, t.tokens.reader);
    expect(cmp).toMatchObject({ status: 400 });
    const bad = await call("POST", "/api/v1/evals", t.tokens.alice, { runId: run.id, benchmarks: ["math500"] });
    expect(bad.status).toBe(412);
    const cancelled = await call("POST", `/api/v1/evals/${id}/cancel`, t.tokens.alice, { reason: "rest" });
    expect(cancelled.body).toMatchObject({ status: "cancelled" });
    const benchmarks = await call("GET", "/api/v1/benchmarks", t.tokens.reader);
    expect((benchmarks.body.items as { name: string }[]).map((b) => b.name)).toContain("fixture-livecodebench");
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/v1/evals", "/api/v1/evals/{id}", "/api/v1/evals/{id}/cancel", "/api/v1/evals/{a}/compare/{b}", "/api/v1/benchmarks"]));
  });
});
