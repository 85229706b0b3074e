import type { IncomingMessage, ServerResponse } from "node:http";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { nodeHTTPRequestHandler } from "@trpc/server/adapters/node-http";
import { TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { SESSION_COOKIE } from "./auth/auth-service.ts";
import { clientAddress, createHttpContext } from "./context.ts";
import { matchRoute, openApiDocument } from "./rest.ts";
import { appRouter } from "./root.ts";
import { createCallerFactory, describeZodIssues, type ApiServices } from "./trpc.ts";

export const MAX_BODY_BYTES = 1024 * 1024;
const createCaller = createCallerFactory(appRouter);

export interface HttpOptions {
  /** Mark the session cookie Secure (set when the server sits behind a TLS reverse proxy). */
  secureCookies?: boolean;
  log?: (line: string) => void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
  send(res, status, { error: { code, message, ...extra } }, headers);
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, "PAYLOAD_TOO_LARGE", `request body over ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "PAYLOAD_TOO_LARGE", `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "BAD_REQUEST", "request body is not valid JSON");
  }
}

/**
 * The API's HTTP entry point. Returns false for paths it does not own, so the server can answer
 * them (health, metrics, 404). Routes:
 *   /trpc/*            tRPC over HTTP (queries, mutations, batching)
 *   /api/v1/*          REST/JSON (see rest.ts), /api/openapi.json its OpenAPI document
 *   /auth/session      POST {token}: sign the dashboard in (session cookie); DELETE: sign out
 */
export function createHttpHandler(services: ApiServices, options: HttpOptions = {}) {
  const log = options.log ?? (() => {});
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    try {
      if (path.startsWith("/trpc/")) {
        await nodeHTTPRequestHandler({
          router: appRouter,
          req,
          res,
          path: path.slice("/trpc/".length),
          maxBodySize: MAX_BODY_BYTES,
          createContext: ({ req }) => createHttpContext(services, req),
          onError: ({ error, path }) => {
            if (error.code === "INTERNAL_SERVER_ERROR") log(`tRPC ${path ?? "?"} failed: ${error.cause?.stack ?? error.message}`);
          },
        });
        return true;
      }
      if (path === "/api/openapi.json" && req.method === "GET") {
        send(res, 200, openApiDocument());
        return true;
      }
      if (path === "/auth/session") {
        await handleSession(req, res);
        return true;
      }
      if (path.startsWith("/api/")) {
        await handleRest(req, res, url);
        return true;
      }
      return false;
    } catch (e) {
      if (e instanceof HttpError) {
        sendError(res, e.status, e.code, e.message);
      } else {
        log(`${req.method} ${path} failed: ${(e as Error).stack ?? String(e)}`);
        if (!res.headersSent) sendError(res, 500, "INTERNAL_SERVER_ERROR", "internal error");
        else res.end();
      }
      return true;
    }
  };

  async function handleRest(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const match = matchRoute(req.method ?? "GET", url.pathname);
    if (match === undefined) return sendError(res, 404, "NOT_FOUND", `no route for ${req.method} ${url.pathname}`);
    if (match === "method-not-allowed") return sendError(res, 405, "METHOD_NOT_SUPPORTED", `${req.method} is not allowed on ${url.pathname}`);
    const body = req.method === "GET" || req.method === "DELETE" ? undefined : await readJsonBody(req);
    const ctx = await createHttpContext(services, req);
    // The session cookie's CSRF check keys off the procedure type; REST writes are never GET.
    const caller = createCaller(ctx) as unknown as Record<string, Record<string, (input: unknown) => Promise<unknown>>>;
    const [ns, name] = match.route.procedure.split(".") as [string, string];
    try {
      const result = await caller[ns]![name]!(match.route.input({ params: match.params, query: url.searchParams, body }));
      send(res, 200, result);
    } catch (e) {
      const err = e instanceof TRPCError ? e : new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: e });
      const status = getHTTPStatusCodeFromError(err);
      if (status >= 500) {
        log(`${req.method} ${url.pathname} failed: ${(err.cause ?? err).stack ?? err.message}`);
        return sendError(res, 500, "INTERNAL_SERVER_ERROR", "internal error");
      }
      if (err.cause instanceof ZodError) {
        const issues = describeZodIssues(err.cause);
        return sendError(res, status, err.code, issues.map((i) => `${i.path}: ${i.message}`).join("; "), { issues });
      }
      const retry = ctx.auth && !ctx.auth.ok && ctx.auth.retryAfterMs ? { "retry-after": String(Math.ceil(ctx.auth.retryAfterMs / 1000)) } : undefined;
      return sendError(res, status, err.code, err.message, {}, retry);
    }
  }

  async function handleSession(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const secure = options.secureCookies ? "; Secure" : "";
    if (req.method === "DELETE") {
      res.setHeader("set-cookie", `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure}`);
      return send(res, 200, { signedOut: true });
    }
    if (req.method !== "POST") return sendError(res, 405, "METHOD_NOT_SUPPORTED", `${req.method} is not allowed on /auth/session`);
    const body = await readJsonBody(req);
    const token = typeof body === "object" && body !== null && typeof (body as { token?: unknown }).token === "string" ? (body as { token: string }).token : undefined;
    if (token === undefined) return sendError(res, 400, "BAD_REQUEST", "token: expected the API token as a string", { issues: [{ path: "token", message: "required string" }] });
    const session = await services.auth.createSession(token, clientAddress(req));
    if (!session.ok) {
      const headers: Record<string, string> = session.retryAfterMs ? { "retry-after": String(Math.ceil(session.retryAfterMs / 1000)) } : {};
      return sendError(res, session.code === "TOO_MANY_REQUESTS" ? 429 : 401, session.code, session.message, {}, headers);
    }
    const maxAge = Math.floor((session.expiresAt.getTime() - Date.now()) / 1000);
    res.setHeader("set-cookie", `${SESSION_COOKIE}=${encodeURIComponent(session.cookie)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${secure}`);
    send(res, 200, { csrf: session.csrf, expiresAt: session.expiresAt.toISOString(), user: session.principal.userName, scope: session.principal.scope });
  }
}
