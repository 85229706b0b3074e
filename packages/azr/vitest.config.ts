import { defineProject } from "vitest/config";

// Property tests and the CPython / sandbox cross-checks take seconds; CI runs every suite in
// parallel on 2 cores, so give them the same headroom as the other process-starting suites.
export default defineProject({
  test: { name: "@azr/azr", include: ["src/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 60_000 },
});
