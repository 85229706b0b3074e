import type { IncomingMessage } from "node:http";
import { CSRF_HEADER, SESSION_COOKIE } from "./auth/auth-service.ts";
import type { ApiContext, ApiServices } from "./trpc.ts";

export function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "unknown";
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Credentials of an HTTP request: a bearer token, else the dashboard's session cookie. */
export async function createHttpContext(services: ApiServices, req: IncomingMessage): Promise<ApiContext> {
  const client = clientAddress(req);
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) {
      services.auth.limiter.fail(client);
      return { services, auth: { ok: false, code: "UNAUTHORIZED", message: "Authorization header must be: Bearer <API token>" }, csrfOk: false };
    }
    return { services, auth: await services.auth.authenticateToken(m[1]!, client), csrfOk: false };
  }
  const session = readCookie(req, SESSION_COOKIE);
  if (session !== undefined) {
    const csrf = req.headers[CSRF_HEADER];
    return {
      services,
      auth: await services.auth.authenticateSession(session, client),
      csrfOk: services.auth.checkCsrf(session, typeof csrf === "string" ? csrf : undefined),
    };
  }
  return { services, auth: null, csrfOk: false };
}

/**
 * Credentials of a WebSocket connection, from tRPC's connection parameters (the first message),
 * never from the URL: `{ token }`, or for the dashboard `{ csrf }` with its session cookie. The
 * cookie alone is not enough, since a cross-site page can open a WebSocket that carries it.
 */
export async function createWsContext(services: ApiServices, req: IncomingMessage, params: Record<string, string | undefined> | null): Promise<ApiContext> {
  const client = clientAddress(req);
  if (params?.token) return { services, auth: await services.auth.authenticateToken(params.token, client), csrfOk: false };
  const session = readCookie(req, SESSION_COOKIE);
  if (session !== undefined && params?.csrf) {
    if (!services.auth.checkCsrf(session, params.csrf)) {
      services.auth.limiter.fail(client);
      return { services, auth: { ok: false, code: "UNAUTHORIZED", message: "invalid CSRF token for this session" }, csrfOk: false };
    }
    return { services, auth: await services.auth.authenticateSession(session, client), csrfOk: true };
  }
  return { services, auth: null, csrfOk: false };
}
