import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createApi, type Api, type AuthService, type EvalControl, type RunControl, type RunNotifier } from "@azr/api";
import type { Database } from "@azr/db";
import type { AdminConfig } from "@azr/orchestrator";
import type { ServerOptions } from "./options.ts";

export interface ControlPlaneOptions {
  admin?: AdminConfig;
  /** The orchestrator's RunControl; default: database transitions only. */
  runControl?: RunControl;
  /** The orchestrator's EvalControl; default: database transitions only. */
  evalControl?: EvalControl;
  /** Wakes live subscriptions; the server shares it with the orchestrator's progress reports. */
  notifier?: RunNotifier;
  /** Set when TLS terminates at a reverse proxy in front of this server. */
  secureCookies?: boolean;
  /** Shared with the orchestrator, whose run attempts' worker tokens it mints and checks (workers
   * dial into their attempt's own hub, never into this server; worker tokens are refused here). */
  auth?: AuthService;
  log?: (line: string) => void;
  /** Renders Prometheus metrics for GET /metrics (404 without it). */
  prometheus?: () => Promise<string>;
}

export interface ControlPlane {
  url: string;
  api: Api;
  close(): Promise<void>;
}

/** The control-plane HTTP server: /healthz, the API (tRPC, REST, OpenAPI, session sign-in) and
 * its WebSocket subscriptions on one port. */
export async function startControlPlane(db: Database, options: ServerOptions, extra: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const api = createApi({ db, authService: extra.auth, admin: extra.admin, runControl: extra.runControl, evalControl: extra.evalControl, notifier: extra.notifier, secureCookies: extra.secureCookies, log: extra.log ?? ((line) => console.error(line)) });
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET" && url.pathname === "/healthz") {
      db.sql
        .query("SELECT 1 AS ok")
        .then(() => reply(200, { status: "ok", database: db.target.kind }))
        .catch((e: unknown) => reply(503, { status: "database-unavailable", error: String(e) }));
      return;
    }
    if (req.method === "GET" && url.pathname === "/metrics" && extra.prometheus) {
      extra
        .prometheus()
        .then((text) => {
          res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
          res.end(text);
        })
        .catch(() => reply(503, { error: "metrics unavailable" }));
      return;
    }
    api.handleHttp(req, res).then(
      (handled) => {
        if (!handled) reply(404, { error: `no route for ${req.method} ${url.pathname}` });
      },
      () => {
        if (!res.headersSent) reply(500, { error: "internal error" });
      },
    );

    function reply(status: number, body: unknown) {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    }
  });
  server.on("upgrade", (req, socket, head) => {
    if (api.handleUpgrade(req, socket, head)) return;
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    api,
    async close() {
      await api.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
