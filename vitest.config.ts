import { defineConfig } from "vitest/config";

// One root command runs every workspace's tests; each package is its own vitest project so the
// per-suite timing table in scripts/test.sh can name it.
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "bench"],
    reporters: ["default"],
  },
});
