import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Database } from "@azr/db";
import type { ServerOptions } from "./options.ts";

export interface ControlPlane {
  url: string;
  close(): Promise<void>;
}

/** The control-plane HTTP server. It serves health now; the API and worker endpoints mount here. */
export async function startControlPlane(db: Database, options: ServerOptions): Promise<ControlPlane> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET" && url.pathname === "/healthz") {
      db.sql
        .query("SELECT 1 AS ok")
        .then(() => reply(200, { status: "ok", database: db.target.kind }))
        .catch((e: unknown) => reply(503, { status: "database-unavailable", error: String(e) }));
      return;
    }
    reply(404, { error: `no route for ${req.method} ${url.pathname}` });

    function reply(status: number, body: unknown) {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
