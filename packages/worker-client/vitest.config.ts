import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "@azr/worker-client", include: ["src/**/*.test.ts"], testTimeout: 240000 },
});
