import { describe, expect, it } from "vitest";
import { parseServerEnv } from "./env.ts";
import { createLogger } from "./log.ts";

describe("server environment", () => {
  it("defaults to .azr in the working directory and its admin.yaml", () => {
    expect(parseServerEnv({}, "/srv")).toEqual({
      dataDir: "/srv/.azr",
      adminConfigFile: "/srv/.azr/admin.yaml",
      adminToken: undefined,
      secureCookies: false,
      logFormat: "text",
      executor: "bwrap",
      installationId: "azr-default",
    });
  });

  it.each([
    [{ AZR_SECURE_COOKIES: "yes" }, 'AZR_SECURE_COOKIES must be "0" or "1"'],
    [{ AZR_LOG_FORMAT: "xml" }, 'AZR_LOG_FORMAT must be "text" or "json"'],
    [{ AZR_EXECUTOR: "none" }, 'AZR_EXECUTOR must be "bwrap", "docker" or "auto"'],
    [{ AZR_ADMIN_TOKEN: "short" }, "AZR_ADMIN_TOKEN must be at least 32 characters"],
    [{ AZR_INSTALLATION_ID: "Bad Id" }, "AZR_INSTALLATION_ID must be lowercase letters"],
  ])("names the bad variable: %o", (env, message) => {
    expect(() => parseServerEnv(env, "/srv")).toThrow(message);
  });

  it("writes JSON lines with AZR_LOG_FORMAT=json", () => {
    const lines: string[] = [];
    createLogger("json", (l) => lines.push(l))("demo", "step 1/20", { runId: "r" });
    expect(JSON.parse(lines[0]!)).toMatchObject({ component: "demo", message: "step 1/20", runId: "r" });
    createLogger("text", (l) => lines.push(l))("db", "ready");
    expect(lines[1]).toBe("[db] ready");
  });
});
