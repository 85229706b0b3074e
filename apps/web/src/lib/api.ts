import { createTRPCClient, createWSClient, httpBatchLink, httpLink, splitLink, TRPCClientError, wsLink, type TRPCClient } from "@trpc/client";
import type { AppRouter, RouterInputs, RouterOutputs } from "@azr/client";
import { forgetSession, readSession } from "./session.ts";

export type { RouterInputs, RouterOutputs };
export type Run = RouterOutputs["runs"]["get"];
export type RunStatus = Run["status"];

let client: TRPCClient<AppRouter> | null = null;

const csrfHeader = (): Record<string, string> => {
  const csrf = readSession()?.csrf;
  return csrf ? { "x-azr-csrf": csrf } : {};
};
const sameOrigin = (url: URL | RequestInfo, init?: RequestInit | object) => fetch(url, { ...(init as RequestInit), credentials: "same-origin" });
let connectionListeners = new Set<(open: boolean) => void>();

/** The browser's typed API client: queries and mutations over same-origin HTTP with the session
 * cookie (mutations add the CSRF header); subscriptions over one WebSocket that authenticates
 * with the CSRF value in tRPC's connection parameters. */
export function api(): TRPCClient<AppRouter> {
  if (client) return client;
  const wsUrl = `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}/trpc`;
  const ws = createWSClient({
    url: wsUrl,
    connectionParams: () => ({ csrf: readSession()?.csrf ?? "" }),
    lazy: { enabled: true, closeMs: 5_000 },
    retryDelayMs: (attempt) => Math.min(250 * 2 ** attempt, 5_000),
    onOpen: () => connectionListeners.forEach((l) => l(true)),
    onClose: () => connectionListeners.forEach((l) => l(false)),
  });
  client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: wsLink({ client: ws }),
        // Calls made with context { unbatched: true } (the charts' series) go alone, so a slow
        // neighbour in a batch (a summary, a list) never holds back the first chart.
        false: splitLink({
          condition: (op) => op.context.unbatched === true,
          true: httpLink({ url: "/trpc", headers: csrfHeader, fetch: sameOrigin }),
          false: httpBatchLink({ url: "/trpc", maxURLLength: 4000, headers: csrfHeader, fetch: sameOrigin }),
        }),
      }),
    ],
  });
  return client;
}

export function onLiveConnection(listener: (open: boolean) => void): () => void {
  connectionListeners.add(listener);
  return () => void connectionListeners.delete(listener);
}

export function resetClient(): void {
  client = null;
  connectionListeners = new Set();
}

export function errorMessage(e: unknown): string {
  if (e instanceof TRPCClientError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

export function isUnauthorized(e: unknown): boolean {
  return e instanceof TRPCClientError && (e.data as { httpStatus?: number } | undefined)?.httpStatus === 401;
}

/** A 401 means the session ended (expired, revoked, server restarted): back to sign-in. */
export function handleAuthError(e: unknown): void {
  if (typeof window !== "undefined" && isUnauthorized(e)) {
    forgetSession();
    const next = window.location.pathname + window.location.search;
    window.location.assign(`/signin?next=${encodeURIComponent(next)}`);
  }
}
