import { seedRun, startTestApi, type TestApi } from "@azr/api/testing";
import { testBackends } from "@azr/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, describeError, type AzrClient } from "./index.ts";

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(testBackends)("@azr/client against a live server (%s)", (backend) => {
  let t: TestApi;
  let alice: AzrClient;
  beforeAll(async () => {
    t = await startTestApi(backend, { subscriptionAuthRecheckMs: 200 });
    alice = createClient({ url: t.url, token: t.tokens.alice });
  });
  afterAll(async () => {
    await alice?.close();
    await t?.close();
  });

  it("makes typed calls over HTTP and reports the server's error code and message", async () => {
    const run = await alice.runs.create.mutate({ preset: "tiny-cpu", name: "from-client", tags: ["client"] });
    expect(run.ownerName).toBe("alice");
    const [list, got] = await Promise.all([alice.runs.list.query({ tag: "client" }), alice.runs.get.query({ id: run.id })]);
    expect(list.items.map((r) => r.id)).toEqual([run.id]);
    expect(got.name).toBe("from-client");
    const reader = createClient({ url: t.url, token: t.tokens.reader });
    const err = await reader.runs.cancel.mutate({ id: run.id }).catch((e: unknown) => describeError(e));
    expect(err).toEqual({ code: "FORBIDDEN", status: 403, message: "this needs a token with the write scope; yours has read" });
    const bad = await alice.runs.create.mutate({ preset: "tiny-cpu", config: { azr: { batchSize: -1 } } }).catch((e: unknown) => describeError(e));
    expect(bad).toMatchObject({ code: "BAD_REQUEST", status: 400, message: expect.stringMatching(/^config\.azr\.batchSize: /) });
    await reader.close();
  });

  it("streams a run's events live and resumes after a dropped connection with no gaps and no duplicates", async () => {
    const run = await seedRun(t.db, t.users.alice, { name: "live" });
    const log = (message: string) => t.db.prisma.runEvent.create({ data: { runId: run.id, kind: "log", actor: "worker", message } });
    await log("before-subscribe");
    const got: { id: string; message: string }[] = [];
    let opened = 0;
    const client = createClient({ url: t.url, token: t.tokens.reader, onConnectionChange: (s) => void (s === "open" && opened++) });
    const sub = client.events.subscribe.subscribe({ runId: run.id }, { onData: (e) => got.push({ id: e.id, message: e.data.message }) });
    await until(() => got.length === 1, "the existing event");
    for (let i = 0; i < 3; i++) await log(`a${i}`);
    t.api.services.notifier.notify(run.id);
    await until(() => got.length === 4, "live events");
    // Drop the connection, write while the client is away, and let it reconnect.
    t.api.terminateLiveConnections();
    for (let i = 0; i < 3; i++) await log(`b${i}`);
    await until(() => got.length >= 7 && opened >= 2, "events after reconnect");
    await new Promise((r) => setTimeout(r, 700));
    expect(got.map((e) => e.message)).toEqual(["before-subscribe", "a0", "a1", "a2", "b0", "b1", "b2"]);
    expect(new Set(got.map((e) => e.id)).size).toBe(7);
    sub.unsubscribe();
    // A status change arrives as a transition event.
    const status: string[] = [];
    const sub2 = client.events.subscribe.subscribe({ runId: run.id, kinds: ["transition"] }, { onData: (e) => status.push(`${e.data.fromStatus}->${e.data.toStatus}`) });
    await alice.runs.cancel.mutate({ id: run.id });
    await until(() => status.length === 1, "the transition");
    expect(status).toEqual(["queued->cancelled"]);
    sub2.unsubscribe();
    await client.close();
  });

  it("streams new metric points by step and resumes from the last step", async () => {
    const run = await seedRun(t.db, t.users.alice, { name: "metrics", keys: ["loss", "reward"], steps: 3 });
    const steps: { step: number; values: Record<string, number> }[] = [];
    const client = createClient({ url: t.url, token: t.tokens.reader });
    const sub = client.metrics.onPoints.subscribe({ runId: run.id, keys: ["loss"] }, { onData: (e) => steps.push(e.data) });
    await until(() => steps.length === 3, "existing points");
    const series = await t.db.prisma.metricSeries.findFirstOrThrow({ where: { runId: run.id, key: "loss" } });
    await t.db.prisma.metricPoint.create({ data: { seriesId: series.id, step: 3, wallTime: new Date(), value: 0.25 } });
    t.api.services.notifier.notify(run.id);
    await until(() => steps.length === 4, "the new step");
    expect(steps.map((s) => s.step)).toEqual([0, 1, 2, 3]);
    expect(steps[3]!.values).toEqual({ loss: 0.25 });
    sub.unsubscribe();
    await client.close();
  });

  it("ends a live subscription when its token is revoked", async () => {
    const run = await seedRun(t.db, t.users.alice);
    const { token, record } = await t.api.services.auth.createApiToken({ userId: t.users.reader, name: "short-lived", scopes: ["read"] });
    const client = createClient({ url: t.url, token });
    const ended = new Promise<unknown>((resolve) => {
      client.events.subscribe.subscribe({ runId: run.id }, { onError: resolve });
    });
    await new Promise((r) => setTimeout(r, 300));
    await t.api.services.auth.revokeApiToken(record.id);
    expect(describeError(await ended)).toMatchObject({ code: "UNAUTHORIZED", message: "the token of this subscription was revoked or expired" });
    await client.close();
  });

  it("refuses a live subscription with a bad token, and says why", async () => {
    const run = await seedRun(t.db, t.users.alice);
    const client = createClient({ url: t.url, token: "azr_pat_" + "x".repeat(43) });
    const error = await new Promise<unknown>((resolve) => {
      client.events.subscribe.subscribe({ runId: run.id }, { onError: resolve, onData: () => resolve(new Error("got data")) });
    });
    expect(describeError(error)).toMatchObject({ code: "UNAUTHORIZED", message: "unknown API token" });
    await client.close();
  });
});
