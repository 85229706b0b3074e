import { defineProject } from "vitest/config";
export default defineProject({ test: { name: "@azr/executor", include: ["src/**/*.test.ts"], testTimeout: 60000 } });
