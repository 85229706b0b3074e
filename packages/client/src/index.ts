import { createTRPCClient, createWSClient, httpBatchLink, splitLink, TRPCClientError, wsLink, type TRPCClient } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { WebSocket as NodeWebSocket } from "ws";
// A type-only import: nothing of the server is loaded at run time (src/bundle.test.ts checks).
import type { AppRouter } from "@azr/api";

export type { AppRouter };
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export interface ClientOptions {
  /** The control plane, e.g. http://127.0.0.1:4300 */
  url: string;
  /** An API token (azr_pat_…). */
  token: string;
  /** A WebSocket class for live subscriptions; default: the runtime's, else the `ws` package's. */
  WebSocket?: unknown;
  /** Called when the live connection opens, closes or fails (e.g. to show "reconnecting…"). */
  onConnectionChange?: (state: "open" | "closed") => void;
}

export type AzrClient = TRPCClient<AppRouter> & {
  /** Closes the live (WebSocket) connection, if one was opened. */
  close(): Promise<void>;
};

/**
 * The typed client. Queries and mutations go over HTTP (batched); subscriptions over one
 * WebSocket opened on first use, authenticated with the token in tRPC's connection parameters
 * (never in the URL). After a drop it reconnects and resumes each subscription after the last
 * event it delivered (tRPC tracks the ids the server attaches).
 */
export function createClient(options: ClientOptions): AzrClient {
  const base = options.url.replace(/\/+$/, "");
  const WS = (options.WebSocket ?? (globalThis as { WebSocket?: unknown }).WebSocket ?? NodeWebSocket) as typeof globalThis.WebSocket;
  const ws = createWSClient({
    url: `${base.replace(/^http/, "ws")}/trpc`,
    connectionParams: () => ({ token: options.token }),
    WebSocket: WS,
    lazy: { enabled: true, closeMs: 0 },
    retryDelayMs: (attempt) => Math.min(200 * 2 ** attempt, 5_000),
    onOpen: () => options.onConnectionChange?.("open"),
    onClose: () => options.onConnectionChange?.("closed"),
  });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: wsLink({ client: ws }),
        false: httpBatchLink({ url: `${base}/trpc`, headers: () => ({ authorization: `Bearer ${options.token}` }), maxURLLength: 4000 }),
      }),
    ],
  });
  const close = () => ws.close();
  // The tRPC client is a proxy in which every property is a procedure path; `close` is ours.
  return new Proxy(trpc, { get: (target, prop, receiver) => (prop === "close" ? close : Reflect.get(target, prop, receiver)) }) as AzrClient;
}

/** The HTTP-ish status and tRPC code of a failed call, and the server's message (which names the
 * field for bad input). */
export function describeError(e: unknown): { code: string; status: number | undefined; message: string } {
  if (e instanceof TRPCClientError) {
    const data = (e as TRPCClientError<AppRouter>).data as { code?: string; httpStatus?: number } | undefined;
    return { code: data?.code ?? "CLIENT_ERROR", status: data?.httpStatus, message: e.message };
  }
  return { code: "CLIENT_ERROR", status: undefined, message: e instanceof Error ? e.message : String(e) };
}

export { TRPCClientError };
