import { defineProject } from "vitest/config";

// End-to-end tests: a real control-plane server (PostgreSQL), the production build of the
// dashboard behind its own server, and Debian's headless Chromium. The build runs once, in the
// global setup.
export default defineProject({
  test: {
    name: "@azr/web",
    include: ["tests/**/*.test.ts", "src/**/*.test.ts"],
    globalSetup: ["tests/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
