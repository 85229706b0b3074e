import path from "node:path";
import { fileURLToPath } from "node:url";
// (typed from next/dist: the "next" entry's global types make NODE_ENV required, breaking the
// server packages that the API router type pulls into this program)
import type { NextConfig } from "next/dist/server/config-shared.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// The dashboard talks to the control plane on the same origin: server.ts proxies /trpc (HTTP and
// WebSocket), /auth/session and /api to AZR_API_URL at run time, so one build serves any server.
const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  transpilePackages: ["@azr/azr", "@azr/protocol", "@azr/client"],
  turbopack: { root },
  outputFileTracingRoot: root,
  // A separate build directory (AZR_WEB_DIST_DIR, relative to apps/web) keeps a test or bench build
  // from replacing the .next/ build that a running dashboard serves.
  distDir: process.env.AZR_WEB_DIST_DIR || ".next",
  typescript: { ignoreBuildErrors: true }, // `npm run typecheck` (tsc) is the type gate; the build stays fast
};

export default config;
