import { defineProject } from "vitest/config";
export default defineProject({ test: { name: "@azr/demo", include: ["src/**/*.test.ts"], testTimeout: 300000, hookTimeout: 300000 } });
