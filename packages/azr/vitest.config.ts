import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "@azr/azr", include: ["src/**/*.test.ts"] },
});
