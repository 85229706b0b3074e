import { initTRPC, TRPCError } from "@trpc/server";
import type { Database, Run } from "@azr/db";
import type { AdminConfig, BenchmarkCatalog } from "@azr/orchestrator";
import { ZodError } from "zod";
import { scopeAtLeast, type AuthResult, type AuthService, type Principal, type Scope } from "./auth/auth-service.ts";
import type { RunNotifier } from "./notifier.ts";
import type { EvalControl } from "./eval-control.ts";
import type { RunControl } from "./run-control.ts";

export interface ApiServices {
  db: Database;
  auth: AuthService;
  admin: AdminConfig;
  runControl: RunControl;
  evalControl: EvalControl;
  /** The benchmarks evaluations may name: built-in ones with the admin file's on top. */
  benchmarks: BenchmarkCatalog;
  notifier: RunNotifier;
  /** How often live subscriptions re-check that their token is still valid. */
  subscriptionAuthRecheckMs: number;
}

export interface ApiContext {
  services: ApiServices;
  /** null: the request carried no credentials at all. */
  auth: AuthResult | null;
  /** Session-cookie requests: whether the CSRF header matched (mutations need it). */
  csrfOk: boolean;
}

export interface FieldIssue {
  path: string;
  message: string;
}

export function describeZodIssues(error: ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: i.path.length ? i.path.map(String).join(".") : "(input)", message: i.message }));
}

const t = initTRPC.context<ApiContext>().create({
  errorFormatter({ shape, error }) {
    // Input errors say which field is wrong, in words, instead of tRPC's JSON-dumped issue list.
    if (error.cause instanceof ZodError) {
      const issues = describeZodIssues(error.cause);
      return { ...shape, message: issues.map((i) => `${i.path}: ${i.message}`).join("; "), data: { ...shape.data, stack: undefined, issues } };
    }
    return { ...shape, data: { ...shape.data, stack: undefined, issues: undefined as FieldIssue[] | undefined } };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

// The procedure ladder, defined once: public → authenticated → read → write → admin.

/** Input errors say which field is wrong, in words, for every caller (HTTP, WebSocket, REST,
 * in-process), not only where the error formatter runs. */
export const publicProcedure = t.procedure.use(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.code === "BAD_REQUEST" && result.error.cause instanceof ZodError) {
    const issues = describeZodIssues(result.error.cause);
    throw new TRPCError({ code: "BAD_REQUEST", message: issues.map((i) => `${i.path}: ${i.message}`).join("; "), cause: result.error.cause });
  }
  return result;
});

export const authenticatedProcedure = publicProcedure.use(({ ctx, type, next }) => {
  if (ctx.auth === null) throw new TRPCError({ code: "UNAUTHORIZED", message: "missing credentials: send Authorization: Bearer <API token>" });
  if (!ctx.auth.ok) throw new TRPCError({ code: ctx.auth.code, message: ctx.auth.message });
  const principal = ctx.auth.principal;
  if (principal.via === "session" && type !== "query" && !ctx.csrfOk) {
    throw new TRPCError({ code: "FORBIDDEN", message: "missing or invalid CSRF token: send the x-azr-csrf header from the sign-in response" });
  }
  return next({ ctx: { principal } });
});

function requireScope(need: Scope) {
  return authenticatedProcedure.use(({ ctx, next }) => {
    if (!scopeAtLeast(ctx.principal.scope, need)) {
      throw new TRPCError({ code: "FORBIDDEN", message: `this needs a token with the ${need} scope; yours has ${ctx.principal.scope}` });
    }
    return next();
  });
}

export const readProcedure = requireScope("read");
export const writeProcedure = requireScope("write");
export const adminProcedure = requireScope("admin");

/** `write` changes only its owner's runs; `admin` changes any. */
export function assertMayChangeRun(principal: Principal, run: Pick<Run, "id" | "ownerId">): void {
  if (principal.scope === "admin" || run.ownerId === principal.userId) return;
  throw new TRPCError({ code: "FORBIDDEN", message: `run ${run.id} belongs to another user; only its owner or an admin may change it` });
}

export function actorOf(principal: Principal): string {
  return `user:${principal.userName}`;
}

/** For subscription loops: throws UNAUTHORIZED once the caller's token was revoked or expired
 * (checked at most every `subscriptionAuthRecheckMs`). */
export function liveAuthCheck(ctx: { services: ApiServices; principal: Principal }): () => Promise<void> {
  let last = Date.now();
  return async () => {
    if (Date.now() - last < ctx.services.subscriptionAuthRecheckMs) return;
    last = Date.now();
    if (!(await ctx.services.auth.isTokenLive(ctx.principal.tokenId))) {
      throw new TRPCError({ code: "UNAUTHORIZED", message: "the token of this subscription was revoked or expired" });
    }
  };
}
