import { testBackends } from "@azr/db/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FailedAuthLimiter } from "./auth/rate-limit.ts";
import { generateToken } from "./auth/tokens.ts";
import { REST_ROUTES } from "./rest.ts";
import { seedRun, startTestApi, type TestApi } from "./testing.ts";

// The HTTP surface as callers see it: REST/JSON, tRPC over HTTP, the session exchange, and the
// rules of auth — each refusal with its status, code and message, and no data changed.

describe.each(testBackends)("HTTP surface (%s)", (backend) => {
  let t: TestApi;
  let aliceRun: string;
  const call = (method: string, path: string, opts: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${t.url}${path}`, {
      method,
      headers: {
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.body !== undefined || opts.raw !== undefined ? { "content-type": "application/json" } : {}),
        ...opts.headers,
      },
      body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
    });
  const json = async (r: Response) => (await r.json()) as { error?: { code: string; message: string; issues?: { path: string }[] } } & Record<string, unknown>;
  /** Everything a request could change, apart from tokens' lastUsedAt (a touch, not data). */
  const snapshot = async () => {
    const tables = ["Run", "RunEvent", "Checkpoint", "MetricSeries", "MetricPoint", "Rollout", "BufferEntry", "User", "Worker", "WorkerToken"];
    const parts: string[] = [];
    for (const table of tables) {
      const [r] = await t.db.sql.query<{ h: string | null }>(`SELECT md5(string_agg(row_to_json(x)::text, ',' ORDER BY row_to_json(x)::text)) AS h FROM "${table}" x`);
      parts.push(`${table}:${r?.h}`);
    }
    const [tok] = await t.db.sql.query<{ h: string | null }>(`SELECT md5(string_agg(id || coalesce("revokedAt"::text, '-') || array_to_string(scopes, ','), ',' ORDER BY id)) AS h FROM "ApiToken"`);
    return `${parts.join("|")}|tokens:${tok?.h}`;
  };

  beforeAll(async () => {
    t = await startTestApi(backend);
    aliceRun = (await seedRun(t.db, t.users.alice, { name: "alice-run", status: "running", steps: 20, keys: ["loss"], rollouts: 10, checkpointSteps: [10] })).id;
  });
  afterAll(async () => t?.close());

  it("REST: create, list, get, cancel a run with a write token", async () => {
    const created = await call("POST", "/api/v1/runs", { token: t.tokens.alice, body: { preset: "tiny-cpu", name: "rest-run", tags: ["rest"] } });
    expect(created.status).toBe(200);
    const run = await json(created);
    expect(run).toMatchObject({ name: "rest-run", status: "queued", ownerName: "alice" });
    const list = await json(await call("GET", "/api/v1/runs?tag=rest&status=queued,running&limit=5", { token: t.tokens.reader }));
    expect((list.items as { id: string }[]).map((r) => r.id)).toEqual([run.id]);
    expect(await json(await call("GET", `/api/v1/runs/${run.id}`, { token: t.tokens.reader }))).toMatchObject({ id: run.id });
    const cancelled = await call("POST", `/api/v1/runs/${run.id}/cancel`, { token: t.tokens.alice, body: { reason: "done with it" } });
    expect(await json(cancelled)).toMatchObject({ status: "cancelled" });
    const series = await json(await call("GET", `/api/v1/metrics/series?runIds=${aliceRun}&keys=loss&points=5`, { token: t.tokens.reader }));
    expect((series.series as { buckets: unknown[] }[])[0]!.buckets).toHaveLength(5);
    const rollouts = await json(await call("GET", `/api/v1/runs/${aliceRun}/rollouts?valid=true&limit=3`, { token: t.tokens.reader }));
    expect(rollouts.items).toHaveLength(3);
    const cmp = await call("POST", "/api/v1/compare", { token: t.tokens.reader, body: { runIds: [aliceRun, run.id], keys: ["loss"] } });
    expect(cmp.status).toBe(200);
  });

  it("refuses missing, malformed, unknown, revoked, expired and worker tokens with 401 and says why", async () => {
    const before = await snapshot();
    const revoked = await t.api.services.auth.createApiToken({ userId: t.users.alice, name: "r", scopes: ["write"] });
    await t.api.services.auth.revokeApiToken(revoked.record.id);
    const expired = await t.api.services.auth.createApiToken({ userId: t.users.alice, name: "e", scopes: ["write"], expiresAt: new Date(Date.now() - 1) });
    const run = await t.db.prisma.run.findUniqueOrThrow({ where: { id: aliceRun } });
    const worker = await t.api.services.auth.mintWorkerToken(run.id, run.attempt);
    const cases: [string | null, Record<string, string>, RegExp][] = [
      [null, {}, /^missing credentials/],
      [null, { authorization: "Basic YWxpY2U6cHc=" }, /must be: Bearer/],
      ["not-a-token", {}, /malformed API token/],
      [generateToken("api"), {}, /unknown API token/],
      [revoked.token, {}, /was revoked/],
      [expired.token, {}, /expired/],
      [worker.token, {}, /worker tokens are only valid on the worker endpoint/],
    ];
    for (const [token, headers, message] of cases) {
      for (const [method, path, body] of [
        ["GET", "/api/v1/runs", undefined],
        ["POST", `/api/v1/runs/${aliceRun}/cancel`, {}],
        ["POST", "/api/v1/runs", { preset: "tiny-cpu" }],
      ] as const) {
        const r = await call(method, path, { token, headers, body });
        expect(r.status, `${method} ${path} with ${token}`).toBe(401);
        const e = await json(r);
        expect(e.error).toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(message) });
      }
    }
    // tRPC over HTTP says the same.
    const trpc = await fetch(`${t.url}/trpc/runs.list`, { headers: { authorization: `Bearer ${worker.token}` } });
    expect(trpc.status).toBe(401);
    await t.db.prisma.apiToken.deleteMany({ where: { id: { in: [revoked.record.id, expired.record.id] } } });
    await t.db.prisma.workerToken.deleteMany({ where: { id: worker.tokenId } });
    expect(await snapshot()).toBe(before);
  });

  it("wrong scope and another owner's run get 403; malformed input 400 naming the field; unknown ids 404; nothing changes", async () => {
    const before = await snapshot();
    const reader = await call("POST", "/api/v1/runs", { token: t.tokens.reader, body: { preset: "tiny-cpu" } });
    expect(reader.status).toBe(403);
    expect((await json(reader)).error?.message).toBe("this needs a token with the write scope; yours has read");
    const bob = await call("POST", `/api/v1/runs/${aliceRun}/cancel`, { token: t.tokens.bob, body: {} });
    expect(bob.status).toBe(403);
    expect((await call("PATCH", `/api/v1/runs/${aliceRun}`, { token: t.tokens.bob, body: { name: "x" } })).status).toBe(403);
    expect((await call("DELETE", `/api/v1/runs/${aliceRun}`, { token: t.tokens.bob })).status).toBe(403);
    const bad = await call("POST", "/api/v1/runs", { token: t.tokens.alice, body: { preset: "tiny-cpu", priority: "high", tags: "x" } });
    expect(bad.status).toBe(400);
    const badBody = await json(bad);
    expect(badBody.error?.issues?.map((i) => i.path).sort()).toEqual(["priority", "tags"]);
    expect(badBody.error?.message).toMatch(/priority: .*; tags: |tags: .*; priority: /);
    const badConfig = await json(await call("POST", "/api/v1/runs", { token: t.tokens.alice, body: { preset: "tiny-cpu", config: { sampling: { temperature: -1 } } } }));
    expect(badConfig.error?.message).toMatch(/^config\.sampling\.temperature: /);
    const badQuery = await call("GET", "/api/v1/runs?limit=lots", { token: t.tokens.reader });
    expect(badQuery.status).toBe(400);
    expect((await json(badQuery)).error?.message).toMatch(/^limit: /);
    expect((await call("POST", "/api/v1/runs", { token: t.tokens.alice, raw: "{not json" })).status).toBe(400);
    const huge = await call("POST", "/api/v1/runs", { token: t.tokens.alice, raw: JSON.stringify({ notes: "x".repeat(2 * 1024 * 1024) }) });
    expect(huge.status).toBe(413);
    const hugeTrpc = await fetch(`${t.url}/trpc/runs.create`, { method: "POST", headers: { authorization: `Bearer ${t.tokens.alice}`, "content-type": "application/json" }, body: JSON.stringify({ notes: "x".repeat(2 * 1024 * 1024) }) });
    expect(hugeTrpc.status).toBe(413);
    const longName = await call("POST", "/api/v1/runs", { token: t.tokens.alice, body: { preset: "tiny-cpu", name: "n".repeat(201) } });
    expect((await json(longName)).error?.message).toMatch(/^name: /);
    const missing = "00000000-0000-4000-8000-000000000000";
    const nf = await call("GET", `/api/v1/runs/${missing}`, { token: t.tokens.reader });
    expect(nf.status).toBe(404);
    expect((await json(nf)).error).toEqual({ code: "NOT_FOUND", message: `no run with id ${missing}` });
    expect((await call("GET", "/api/v1/runs/not-a-uuid", { token: t.tokens.reader })).status).toBe(400);
    expect((await call("GET", "/api/v1/nope", { token: t.tokens.reader })).status).toBe(404);
    expect((await call("PUT", "/api/v1/runs", { token: t.tokens.reader })).status).toBe(405);
    expect((await call("POST", `/api/v1/runs/${aliceRun}/resume`, { token: t.tokens.alice })).status).toBe(409);
    expect(await snapshot()).toBe(before);
  });

  it("rate-limits failed authentication over HTTP with 429 and Retry-After", async () => {
    const strict = await startTestApi(backend === "pglite" ? "postgres" : backend, { auth: { limiter: new FailedAuthLimiter(3, 60_000) } });
    try {
      for (let i = 0; i < 3; i++) expect((await fetch(`${strict.url}/api/v1/runs`, { headers: { authorization: `Bearer ${generateToken("api")}` } })).status).toBe(401);
      const blocked = await fetch(`${strict.url}/api/v1/runs`, { headers: { authorization: `Bearer ${strict.tokens.admin}` } });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await fetch(`${strict.url}/auth/session`, { method: "POST", body: JSON.stringify({ token: strict.tokens.admin }) })).status).toBe(429);
    } finally {
      await strict.close();
    }
  });

  it("dashboard session: token exchanged for an httpOnly SameSite=Strict cookie; mutations need the CSRF header", async () => {
    const bad = await fetch(`${t.url}/auth/session`, { method: "POST", body: JSON.stringify({ token: generateToken("api") }) });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("set-cookie")).toBeNull();
    const r = await fetch(`${t.url}/auth/session`, { method: "POST", body: JSON.stringify({ token: t.tokens.alice }) });
    expect(r.status).toBe(200);
    const setCookie = r.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^azr_session=[^;]+; HttpOnly; SameSite=Strict; Path=\//);
    expect(setCookie).not.toContain(t.tokens.alice);
    const { csrf, user } = (await r.json()) as { csrf: string; user: string };
    expect(user).toBe("alice");
    const cookie = setCookie.split(";")[0]!;
    expect((await fetch(`${t.url}/api/v1/runs/${aliceRun}`, { headers: { cookie } })).status).toBe(200);
    const before = await snapshot();
    const noCsrf = await fetch(`${t.url}/api/v1/runs/${aliceRun}`, { method: "PATCH", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ notes: "via cookie" }) });
    expect(noCsrf.status).toBe(403);
    expect(((await noCsrf.json()) as { error: { message: string } }).error.message).toMatch(/CSRF/);
    const forged = await fetch(`${t.url}/trpc/runs.update`, { method: "POST", headers: { cookie, "x-azr-csrf": "forged", "content-type": "application/json" }, body: JSON.stringify({ id: aliceRun, notes: "x" }) });
    expect(forged.status).toBe(403);
    expect(await snapshot()).toBe(before);
    const ok = await fetch(`${t.url}/api/v1/runs/${aliceRun}`, { method: "PATCH", headers: { cookie, "x-azr-csrf": csrf, "content-type": "application/json" }, body: JSON.stringify({ notes: "via cookie" }) });
    expect(ok.status).toBe(200);
    const out = await fetch(`${t.url}/auth/session`, { method: "DELETE", headers: { cookie } });
    expect(out.headers.get("set-cookie")).toMatch(/Max-Age=0/);
  });

  it("serves an OpenAPI 3.1 document generated from the zod schemas, covering every REST route", async () => {
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> }; parameters: { name: string }[] }>> };
    expect(doc.openapi).toBe("3.1.0");
    for (const r of REST_ROUTES) expect(doc.paths[r.path]?.[r.method.toLowerCase()], `${r.method} ${r.path}`).toBeDefined();
    const create = doc.paths["/api/v1/runs"]!.post!;
    expect(Object.keys(create.requestBody!.content["application/json"]!.schema.properties)).toEqual(expect.arrayContaining(["preset", "config", "pool", "tags"]));
    expect(doc.paths["/api/v1/runs"]!.get!.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(["status", "tag", "cursor"]));
  });

  it("fuzz: random JSON at every HTTP endpoint gets no 500 and changes no data", async () => {
    const before = await snapshot();
    // Warm up lastUsedAt so the fuzz itself never writes it.
    await call("GET", "/api/v1/runs", { token: t.tokens.admin });
    const ids = [aliceRun, "00000000-0000-4000-8000-000000000000", "x", "%00", "1'--"];
    const procedures = [...new Set(REST_ROUTES.map((r) => r.procedure))];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...REST_ROUTES),
        fc.jsonValue({ maxDepth: 3 }),
        fc.constantFrom(...ids),
        fc.dictionary(fc.constantFrom("status", "limit", "runIds", "keys", "points", "cursor", "search", "taskType", "valid", "from", "all", "x"), fc.string({ maxLength: 12 })),
        async (route, body, id, query) => {
          const path = route.path.replace(/\{\w+\}/g, encodeURIComponent(id)) + "?" + new URLSearchParams(query).toString();
          // Tokens of every scope except admin-only token creation, which could legitimately succeed.
          const r = await call(route.method, path, { token: t.tokens.bob, body: route.method === "GET" || route.method === "DELETE" ? undefined : body });
          expect(r.status, `${route.method} ${path} ${JSON.stringify(body)}`).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...procedures, "runs.nope", "health"), fc.jsonValue({ maxDepth: 3 }), async (proc, input) => {
        const r = await fetch(`${t.url}/trpc/${proc}`, { method: "POST", headers: { authorization: `Bearer ${t.tokens.bob}`, "content-type": "application/json" }, body: JSON.stringify(input) });
        expect(r.status, `${proc} ${JSON.stringify(input)}`).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom("POST", "DELETE", "GET", "PUT"), async (body, method) => {
        const r = await fetch(`${t.url}/auth/session`, { method, body: method === "GET" ? undefined : JSON.stringify(body) });
        expect(r.status, `${method} /auth/session ${JSON.stringify(body)}`).toBeLessThan(500);
      }),
      { numRuns: 40 },
    );
    expect(await snapshot()).toBe(before);
  });
});
