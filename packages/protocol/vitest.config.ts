import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "@azr/protocol", include: ["src/**/*.test.ts"] },
});
