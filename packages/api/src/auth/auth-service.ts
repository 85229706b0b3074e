import { createHmac, randomBytes } from "node:crypto";
import type { ApiToken, Database, TokenScope } from "@azr/db";
import { holdsCapacity, type WorkerCredentials } from "@azr/orchestrator";
import { FailedAuthLimiter } from "./rate-limit.ts";
import { constantTimeEqual, displayPrefix, generateToken, hashToken, tokenKind } from "./tokens.ts";

// The one module that owns every credential: API tokens, dashboard sessions derived from them,
// and worker tokens. Nothing else in the platform hashes, compares or mints secrets.

export const SCOPES = ["read", "write", "admin"] as const satisfies readonly TokenScope[];
export type Scope = (typeof SCOPES)[number];
const RANK: Record<Scope, number> = { read: 0, write: 1, admin: 2 };

/** Scopes are ordered: `write` includes `read`, `admin` includes both. */
export function scopeAtLeast(have: Scope, need: Scope): boolean {
  return RANK[have] >= RANK[need];
}
export function highestScope(scopes: readonly Scope[]): Scope | undefined {
  return scopes.reduce<Scope | undefined>((best, s) => (best === undefined || RANK[s] > RANK[best] ? s : best), undefined);
}

export interface Principal {
  via: "token" | "session";
  tokenId: string;
  tokenName: string;
  userId: string;
  userName: string;
  /** The token's highest scope. */
  scope: Scope;
}

export type AuthFailureCode = "UNAUTHORIZED" | "TOO_MANY_REQUESTS";
export type AuthResult = { ok: true; principal: Principal } | { ok: false; code: AuthFailureCode; message: string; retryAfterMs?: number };

export interface AuthOptions {
  /** Signs session cookies and CSRF tokens; random per process unless given (sessions then end on restart). */
  sessionSecret?: string;
  sessionTtlMs?: number;
  limiter?: FailedAuthLimiter;
}

export interface CreatedApiToken {
  /** The secret, shown once. */
  token: string;
  record: ApiToken;
}

export interface WorkerTokenGrant {
  tokenId: string;
  runId: string;
  attempt: number;
}
export type WorkerVerification = ({ ok: true } & WorkerTokenGrant) | { ok: false; reason: string };

export const SESSION_COOKIE = "azr_session";
export const CSRF_HEADER = "x-azr-csrf";
const LAST_USED_RESOLUTION_MS = 60_000;
/** How long a verified API token is trusted without another lookup. Revocation through this
 * service takes effect at once; one made directly in the database within this time. */
const AUTH_CACHE_MS = 5_000;

export class AuthService {
  readonly limiter: FailedAuthLimiter;
  private readonly sessionSecret: Buffer;
  readonly sessionTtlMs: number;
  private readonly verified = new Map<string, { principal: Principal; expiresAt: number | null; until: number }>();

  constructor(
    private readonly db: Database,
    options: AuthOptions = {},
  ) {
    this.limiter = options.limiter ?? new FailedAuthLimiter();
    this.sessionSecret = options.sessionSecret ? Buffer.from(options.sessionSecret) : randomBytes(32);
    this.sessionTtlMs = options.sessionTtlMs ?? 12 * 3600_000;
  }

  // ------------------------------------------------------------------ API tokens

  async createApiToken(input: { userId: string; name: string; scopes: Scope[]; expiresAt?: Date | null }): Promise<CreatedApiToken> {
    const token = generateToken("api");
    const record = await this.db.prisma.apiToken.create({
      data: {
        userId: input.userId,
        name: input.name,
        prefix: displayPrefix(token),
        secretHash: hashToken(token),
        scopes: [...new Set(input.scopes)],
        expiresAt: input.expiresAt ?? null,
      },
    });
    return { token, record };
  }

  /** Finds or creates the user a token is issued to. */
  async ensureUser(name: string, isAdmin = false) {
    return this.db.prisma.user.upsert({ where: { name }, update: {}, create: { name, isAdmin } });
  }

  async revokeApiToken(id: string): Promise<ApiToken | undefined> {
    for (const [key, entry] of this.verified) if (entry.principal.tokenId === id) this.verified.delete(key);
    const existing = await this.db.prisma.apiToken.findUnique({ where: { id } });
    if (!existing) return undefined;
    if (existing.revokedAt) return existing;
    return this.db.prisma.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
  }

  /** Checks an `Authorization: Bearer` token. `client` identifies the caller for rate limiting. */
  async authenticateToken(token: string, client: string): Promise<AuthResult> {
    const blocked = this.limiter.retryAfterMs(client);
    if (blocked > 0) return tooMany(blocked);
    const kind = tokenKind(token);
    if (kind === "worker") return this.fail(client, "worker tokens are only valid on the worker endpoint");
    if (kind !== "api") return this.fail(client, "malformed API token (expected azr_pat_…)");
    const secretHash = hashToken(token);
    const now = Date.now();
    const cached = this.verified.get(secretHash);
    if (cached && cached.until > now && (cached.expiresAt === null || cached.expiresAt > now)) return { ok: true, principal: cached.principal };
    const record = await this.db.prisma.apiToken.findUnique({ where: { secretHash }, include: { user: true } });
    if (!record) return this.fail(client, "unknown API token");
    const problem = tokenProblem(record);
    if (problem) return this.fail(client, problem);
    const scope = highestScope(record.scopes as Scope[]);
    if (!scope) return this.fail(client, "API token has no scopes");
    this.touch(record);
    const principal: Principal = { via: "token", tokenId: record.id, tokenName: record.name, userId: record.userId, userName: record.user.name, scope };
    if (this.verified.size > 1000) this.verified.clear();
    this.verified.set(secretHash, { principal, expiresAt: record.expiresAt?.getTime() ?? null, until: now + AUTH_CACHE_MS });
    return { ok: true, principal };
  }

  private touch(record: ApiToken): void {
    const now = Date.now();
    if (record.lastUsedAt && now - record.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
    // Best effort and off the request path: a lost lastUsedAt update is harmless.
    void this.db.prisma.apiToken.update({ where: { id: record.id }, data: { lastUsedAt: new Date(now) } }).catch(() => {});
  }

  private fail(client: string, message: string): AuthResult {
    this.limiter.fail(client);
    return { ok: false, code: "UNAUTHORIZED", message };
  }

  /** Whether a token is still usable: long-lived subscriptions re-check it, so revoking a token
   * also ends the live streams opened with it. */
  async isTokenLive(tokenId: string): Promise<boolean> {
    const record = await this.db.prisma.apiToken.findUnique({ where: { id: tokenId } });
    return record !== null && tokenProblem(record) === undefined;
  }

  // ------------------------------------------------------------------ dashboard sessions
  //
  // The dashboard exchanges an API token for a session cookie (httpOnly, SameSite=Strict), so the
  // token never lives in browser storage. The cookie value names the token and an expiry, signed
  // with HMAC; every request re-checks the token, so revoking it ends its sessions. Mutations also
  // need the CSRF value (an HMAC of the cookie the page received in the exchange's JSON body) in a
  // header, which a cross-site page can neither read nor forge.

  async createSession(token: string, client: string): Promise<{ ok: true; cookie: string; csrf: string; expiresAt: Date; principal: Principal } | Extract<AuthResult, { ok: false }>> {
    const auth = await this.authenticateToken(token, client);
    if (!auth.ok) return auth;
    const expiresAt = new Date(Date.now() + this.sessionTtlMs);
    const body = `${auth.principal.tokenId}.${expiresAt.getTime()}.${randomBytes(12).toString("base64url")}`;
    const cookie = `${body}.${this.sign(`session:${body}`)}`;
    return { ok: true, cookie, csrf: this.csrfFor(cookie), expiresAt, principal: { ...auth.principal, via: "session" } };
  }

  csrfFor(cookie: string): string {
    return this.sign(`csrf:${cookie}`);
  }

  checkCsrf(cookie: string, presented: string | undefined): boolean {
    return presented !== undefined && constantTimeEqual(this.csrfFor(cookie), presented);
  }

  async authenticateSession(cookie: string, client: string): Promise<AuthResult> {
    const blocked = this.limiter.retryAfterMs(client);
    if (blocked > 0) return tooMany(blocked);
    const parts = cookie.split(".");
    if (parts.length !== 4) return this.fail(client, "malformed session cookie");
    const [tokenId, expires, nonce, signature] = parts as [string, string, string, string];
    const body = `${tokenId}.${expires}.${nonce}`;
    if (!constantTimeEqual(this.sign(`session:${body}`), signature)) return this.fail(client, "invalid session");
    if (!(Number(expires) > Date.now())) return this.fail(client, "session expired: sign in again");
    const record = await this.db.prisma.apiToken.findUnique({ where: { id: tokenId }, include: { user: true } });
    if (!record) return this.fail(client, "invalid session");
    const problem = tokenProblem(record);
    if (problem) return this.fail(client, `session ended: ${problem}`);
    const scope = highestScope(record.scopes as Scope[]);
    if (!scope) return this.fail(client, "API token has no scopes");
    return { ok: true, principal: { via: "session", tokenId: record.id, tokenName: record.name, userId: record.userId, userName: record.user.name, scope } };
  }

  private sign(value: string): string {
    return createHmac("sha256", this.sessionSecret).update(value).digest("base64url");
  }

  // ------------------------------------------------------------------ worker tokens

  /** Mints the token for one attempt of one run; it expires at `expiresAt` or when it is revoked
   * as the attempt ends (`workerCredentials`), whichever is first. */
  async mintWorkerToken(runId: string, attempt: number, ttlMs = 24 * 3600_000): Promise<{ token: string; tokenId: string; expiresAt: Date }> {
    const token = generateToken("worker");
    const expiresAt = new Date(Date.now() + ttlMs);
    const row = await this.db.prisma.workerToken.create({ data: { runId, attempt, secretHash: hashToken(token), expiresAt } });
    return { token, tokenId: row.id, expiresAt };
  }

  /** For the worker endpoint: a worker token of a live attempt, refusing API tokens by shape. */
  async verifyWorkerToken(token: string, client = "worker"): Promise<WorkerVerification> {
    if (this.limiter.retryAfterMs(client) > 0) return { ok: false, reason: "too many failed attempts; wait and retry" };
    const refuse = (reason: string): WorkerVerification => {
      this.limiter.fail(client);
      return { ok: false, reason };
    };
    const kind = tokenKind(token);
    if (kind === "api") return refuse("API tokens are not valid on the worker endpoint");
    if (kind !== "worker") return refuse("malformed worker token");
    const row = await this.db.prisma.workerToken.findUnique({ where: { secretHash: hashToken(token) }, include: { run: { select: { attempt: true, status: true } } } });
    if (!row) return refuse("unknown worker token");
    if (row.revokedAt) return refuse("worker token revoked: its run attempt ended");
    if (row.expiresAt.getTime() <= Date.now()) return refuse("worker token expired");
    if (row.run.attempt !== row.attempt || !holdsCapacity(row.run.status)) return refuse("worker token belongs to an attempt that is no longer running");
    return { ok: true, tokenId: row.id, runId: row.runId, attempt: row.attempt };
  }

  /** Worker tokens for the orchestrator's launchers: minted per attempt, checked on each worker
   * connection, revoked when the attempt's worker is closed. */
  workerCredentials(): WorkerCredentials {
    return {
      issue: async (runId, attempt) => {
        const { token, tokenId } = await this.mintWorkerToken(runId, attempt);
        return {
          token,
          verify: async (candidate) => {
            const v = await this.verifyWorkerToken(candidate, `worker:${runId}`);
            return v.ok && v.tokenId === tokenId;
          },
          revoke: async () => {
            await this.db.prisma.workerToken.updateMany({ where: { id: tokenId, revokedAt: null }, data: { revokedAt: new Date() } });
          },
        };
      },
    };
  }

  // ------------------------------------------------------------------ first start

  /**
   * Makes sure an admin can sign in: when no usable admin token exists, creates one for the user
   * `admin`. With `presetToken` (AZR_ADMIN_TOKEN) that exact secret is registered instead of a
   * random one, so deployments can provision it; otherwise the new secret is returned once for the
   * caller to print. Returns undefined when an admin token already exists.
   */
  async ensureAdminToken(presetToken?: string): Promise<{ token: string; created: boolean } | undefined> {
    if (presetToken !== undefined) {
      if (tokenKind(presetToken) !== "api") throw new Error("AZR_ADMIN_TOKEN must look like azr_pat_ followed by 43 base64url characters (generate one with: azr token generate)");
      const existing = await this.db.prisma.apiToken.findUnique({ where: { secretHash: hashToken(presetToken) } });
      if (existing) {
        if (existing.revokedAt) throw new Error("AZR_ADMIN_TOKEN was revoked; set a new one");
        return { token: presetToken, created: false };
      }
      const admin = await this.ensureUser("admin", true);
      await this.db.prisma.apiToken.create({
        data: { userId: admin.id, name: "admin (AZR_ADMIN_TOKEN)", prefix: displayPrefix(presetToken), secretHash: hashToken(presetToken), scopes: ["admin"] },
      });
      return { token: presetToken, created: true };
    }
    // Raw SQL: Prisma's `has` on an enum array fails through the driver adapters.
    const [live] = await this.db.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "ApiToken" WHERE 'admin' = ANY(scopes) AND "revokedAt" IS NULL AND ("expiresAt" IS NULL OR "expiresAt" > now())`,
    );
    if (live!.n > 0) return undefined;
    const admin = await this.ensureUser("admin", true);
    const created = await this.createApiToken({ userId: admin.id, name: "first-start admin", scopes: ["admin"] });
    return { token: created.token, created: true };
  }
}

function tokenProblem(record: ApiToken): string | undefined {
  if (record.revokedAt) return `API token ${record.prefix}… was revoked`;
  if (record.expiresAt && record.expiresAt.getTime() <= Date.now()) return `API token ${record.prefix}… expired`;
  return undefined;
}

function tooMany(retryAfterMs: number): AuthResult {
  return { ok: false, code: "TOO_MANY_REQUESTS", message: `too many failed authentication attempts; retry in ${Math.ceil(retryAfterMs / 1000)} s`, retryAfterMs };
}
