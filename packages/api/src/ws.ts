import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { WebSocketServer } from "ws";
import { createWsContext } from "./context.ts";
import { appRouter } from "./root.ts";
import type { ApiServices } from "./trpc.ts";

export const WS_PATH = "/trpc";

/**
 * Live subscriptions over WebSocket on the server's own port. Authentication is in tRPC's
 * connection parameters (the client's first message); the upgrade URL carries nothing secret.
 * Call `handleUpgrade` from the HTTP server's 'upgrade' event; it returns false for other paths.
 */
export function createWsHandler(services: ApiServices) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const handler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: ({ req, info }) => createWsContext(services, req, info.connectionParams),
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 5_000 },
  });
  return {
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      if (path !== WS_PATH) return false;
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
      return true;
    },
    /** Drops every live connection (clients reconnect and resume); used before a restart and in tests. */
    terminateAll(): void {
      for (const client of wss.clients) client.terminate();
    },
    async close(): Promise<void> {
      handler.broadcastReconnectNotification();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
