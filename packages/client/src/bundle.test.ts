import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

describe("@azr/client's bundle", () => {
  it("pulls in no server code and no Prisma: only the tRPC client runtime and ws", async () => {
    const entry = fileURLToPath(new URL("./index.ts", import.meta.url));
    const result = await build({ entryPoints: [entry], bundle: true, write: false, metafile: true, platform: "node", format: "esm", logLevel: "silent" });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.length).toBeGreaterThan(5);
    const forbidden = inputs.filter((f) => /packages\/(api|db|orchestrator|azr|executor|protocol)\/|@prisma|node_modules\/pg\/|pglite|@trpc\/server\/dist\/adapters|\bzod\b/.test(f));
    expect(forbidden).toEqual([]);
    expect(inputs.some((f) => f.includes("@trpc/client"))).toBe(true);
    const size = result.outputFiles[0]!.contents.byteLength;
    expect(size).toBeLessThan(400_000);
  });
});
