import { defineProject } from "vitest/config";

// Scorer tests start real bubblewrap sandboxes and run CPython (and sympy) in them; CI runs every
// suite in parallel on 2 cores, so they get the same headroom as the other process-starting suites.
export default defineProject({
  test: { name: "@azr/eval", include: ["src/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 120_000 },
});
