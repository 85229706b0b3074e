import type { Database } from "@azr/db";
import { createTestDatabase, testBackends, type TestDatabase } from "@azr/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthService } from "./auth-service.ts";
import { FailedAuthLimiter } from "./rate-limit.ts";
import { generateToken, hashToken, tokenKind } from "./tokens.ts";

describe("token format", () => {
  it("is prefixed by kind, high-entropy and recognisable", () => {
    const a = generateToken("api");
    const b = generateToken("api");
    expect(a).toMatch(/^azr_pat_[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(tokenKind(a)).toBe("api");
    expect(tokenKind(generateToken("worker"))).toBe("worker");
    expect(tokenKind("azr_pat_short")).toBeUndefined();
    expect(tokenKind("Bearer x")).toBeUndefined();
    expect(hashToken(a)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("failed-auth limiter", () => {
  it("blocks a client after too many failures and forgets them after the window", () => {
    let now = 0;
    const l = new FailedAuthLimiter(3, 1000, () => now);
    for (let i = 0; i < 3; i++) l.fail("1.2.3.4");
    expect(l.retryAfterMs("1.2.3.4")).toBe(1000);
    expect(l.retryAfterMs("5.6.7.8")).toBe(0);
    now = 1001;
    expect(l.retryAfterMs("1.2.3.4")).toBe(0);
  });
});

describe.each(testBackends)("auth service (%s)", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  let auth: AuthService;
  let userId: string;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await tdb.open();
    auth = new AuthService(db, { limiter: new FailedAuthLimiter(1000, 60_000) });
    userId = (await auth.ensureUser("alice")).id;
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it("stores only the SHA-256 of a new token and authenticates it with its highest scope", async () => {
    const { token, record } = await auth.createApiToken({ userId, name: "laptop", scopes: ["read", "write"] });
    expect(record.secretHash).toBe(hashToken(token));
    expect(record.prefix).toBe(token.slice(0, 12));
    const rows = await db.sql.query<{ t: string }>(`SELECT row_to_json(t)::text AS t FROM "ApiToken" t`);
    expect(rows.some((r) => r.t.includes(token))).toBe(false);
    const r = await auth.authenticateToken(token, "c1");
    expect(r).toMatchObject({ ok: true, principal: { userName: "alice", scope: "write", via: "token" } });
  });

  it("refuses missing, malformed, unknown, revoked and expired tokens, and worker tokens, naming why", async () => {
    const { token, record } = await auth.createApiToken({ userId, name: "soon revoked", scopes: ["read"] });
    // Verified once (and so cached): revocation must still take effect at once.
    expect((await auth.authenticateToken(token, "c2")).ok).toBe(true);
    await auth.revokeApiToken(record.id);
    expect(await auth.authenticateToken(token, "c2")).toMatchObject({ ok: false, code: "UNAUTHORIZED", message: expect.stringMatching(/revoked/) });
    const expired = await auth.createApiToken({ userId, name: "old", scopes: ["read"], expiresAt: new Date(Date.now() - 1000) });
    expect(await auth.authenticateToken(expired.token, "c2")).toMatchObject({ ok: false, message: expect.stringMatching(/expired/) });
    expect(await auth.authenticateToken(generateToken("api"), "c2")).toMatchObject({ ok: false, message: "unknown API token" });
    expect(await auth.authenticateToken("hunter2", "c2")).toMatchObject({ ok: false, message: expect.stringMatching(/malformed/) });
    expect(await auth.authenticateToken(generateToken("worker"), "c2")).toMatchObject({ ok: false, message: expect.stringMatching(/only valid on the worker endpoint/) });
  });

  it("rate-limits failed authentication per client, even for a good token", async () => {
    const strict = new AuthService(db, { limiter: new FailedAuthLimiter(3, 60_000) });
    const { token } = await strict.createApiToken({ userId, name: "good", scopes: ["read"] });
    for (let i = 0; i < 3; i++) expect((await strict.authenticateToken(generateToken("api"), "attacker")).ok).toBe(false);
    expect(await strict.authenticateToken(token, "attacker")).toMatchObject({ ok: false, code: "TOO_MANY_REQUESTS" });
    expect((await strict.authenticateToken(token, "someone-else")).ok).toBe(true);
  });

  it("sessions: signed cookie bound to the token, CSRF value tied to the cookie, ended by revocation", async () => {
    const { token, record } = await auth.createApiToken({ userId, name: "browser", scopes: ["read", "write"] });
    const s = await auth.createSession(token, "c3");
    if (!s.ok) throw new Error(s.message);
    expect(s.cookie).not.toContain(token);
    expect(await auth.authenticateSession(s.cookie, "c3")).toMatchObject({ ok: true, principal: { via: "session", scope: "write" } });
    expect(auth.checkCsrf(s.cookie, s.csrf)).toBe(true);
    expect(auth.checkCsrf(s.cookie, "forged")).toBe(false);
    expect(auth.checkCsrf(s.cookie, undefined)).toBe(false);
    const tampered = s.cookie.replace(/^[^.]+/, "00000000-0000-4000-8000-000000000000");
    expect((await auth.authenticateSession(tampered, "c3")).ok).toBe(false);
    const otherServer = new AuthService(db);
    expect((await otherServer.authenticateSession(s.cookie, "c3")).ok).toBe(false);
    await auth.revokeApiToken(record.id);
    expect(await auth.authenticateSession(s.cookie, "c3")).toMatchObject({ ok: false, message: expect.stringMatching(/revoked/) });
  });

  it("worker tokens: valid for a live attempt only, each checked against its own row, API tokens refused, expired when the attempt ends", async () => {
    const run = await db.prisma.run.create({ data: { name: "w", ownerId: userId, config: {}, seed: 1n, poolName: "local", modelName: "tiny", totalSteps: 1, status: "provisioning", attempt: 1 } });
    const { token } = await auth.mintWorkerToken(run.id, 1);
    expect(token).toMatch(/^azr_wkr_/);
    expect(await auth.verifyWorkerToken(token)).toMatchObject({ ok: true, runId: run.id, attempt: 1 });
    const api = await auth.createApiToken({ userId, name: "api", scopes: ["admin"] });
    expect(await auth.verifyWorkerToken(api.token)).toEqual({ ok: false, reason: "API tokens are not valid on the worker endpoint" });

    // What the orchestrator's launchers use: each issued token is checked against its own row
    // (another live token of the same attempt does not pass for it) and dies with revoke().
    const issued = await auth.workerCredentials().issue(run.id, 1);
    expect(issued.token).toMatch(/^azr_wkr_/);
    expect(await issued.verify(issued.token)).toBe(true);
    expect(await issued.verify(token)).toBe(false);
    expect(await issued.verify(api.token)).toBe(false);
    await issued.revoke();
    expect(await issued.verify(issued.token)).toBe(false);
    expect(await auth.verifyWorkerToken(issued.token)).toMatchObject({ ok: false, reason: expect.stringMatching(/revoked/) });

    // A relaunch is a new attempt: the old attempt's token stops working.
    await db.prisma.run.update({ where: { id: run.id }, data: { attempt: 2 } });
    expect(await auth.verifyWorkerToken(token)).toMatchObject({ ok: false, reason: expect.stringMatching(/no longer running/) });
    const second = await auth.workerCredentials().issue(run.id, 2);
    expect((await auth.verifyWorkerToken(second.token)).ok).toBe(true);
    await second.revoke();
    expect(await auth.verifyWorkerToken(second.token)).toMatchObject({ ok: false, reason: expect.stringMatching(/revoked/) });
    const short = await auth.mintWorkerToken(run.id, 2, -1);
    expect(await auth.verifyWorkerToken(short.token)).toMatchObject({ ok: false, reason: "worker token expired" });
  });

  it("first start creates one admin token; AZR_ADMIN_TOKEN registers a given one", async () => {
    // The state of a first start: no usable admin token.
    await db.prisma.apiToken.updateMany({ where: { revokedAt: null }, data: { revokedAt: new Date() } });
    const before = await db.prisma.apiToken.count();
    const first = await auth.ensureAdminToken();
    expect(first?.created).toBe(true);
    expect(await auth.authenticateToken(first!.token, "x")).toMatchObject({ ok: true, principal: { scope: "admin", userName: "admin" } });
    expect(await auth.ensureAdminToken()).toBeUndefined();
    const preset = generateToken("api");
    expect(await auth.ensureAdminToken(preset)).toEqual({ token: preset, created: true });
    expect(await auth.ensureAdminToken(preset)).toEqual({ token: preset, created: false });
    await expect(auth.ensureAdminToken("not-a-token")).rejects.toThrow(/AZR_ADMIN_TOKEN must look like/);
    expect(await db.prisma.apiToken.count()).toBe(before + 2);
  });
});
