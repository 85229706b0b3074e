// The dashboard's server: Next.js (production build by default) plus a same-origin proxy to the
// AZR API, so the browser only ever talks to one origin and the session cookie stays first-party.
//   node --import tsx apps/web/server.ts [--port 4301] [--host 127.0.0.1] [--dev]
//   AZR_API_URL (default http://127.0.0.1:4300) says where the control plane is.
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next/dist/server/next.js";
import { apiTarget } from "./src/server/api.ts";
import { isApiPath, proxyHttp, proxyUpgrade } from "./src/server/proxy.ts";

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const dev = args.includes("--dev");
const port = Number(opt("--port") ?? process.env.PORT ?? 4301);
const host = opt("--host") ?? process.env.AZR_WEB_HOST ?? "127.0.0.1";
const api = apiTarget();
const dir = path.dirname(fileURLToPath(import.meta.url));

const app = next({ dev, dir, hostname: host, port });
await app.prepare();
const handle = app.getRequestHandler();
const nextUpgrade = app.getUpgradeHandler();

const server = http.createServer((req, res) => {
  if (isApiPath(req.url)) return proxyHttp(api, req, res);
  void handle(req, res);
});
server.on("upgrade", (req, socket, head) => {
  if (isApiPath(req.url)) return proxyUpgrade(api, req, socket, head);
  void nextUpgrade(req, socket, head);
});
server.listen(port, host, () => {
  const addr = server.address();
  const actual = typeof addr === "object" && addr ? addr.port : port;
  console.log(`AZR dashboard on http://${host}:${actual} (API: ${api.origin}); sign in with an API token`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
