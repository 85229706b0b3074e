import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "@azr/bench", include: ["*.test.ts"] },
});
