import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "./testing.ts";

// The stdlib-only Python example in examples/python is run against a live server, so the REST
// surface it documents cannot drift from what the server does.

describe("examples/python/azr_api.py", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi("postgres");
  });
  afterAll(async () => t?.close());

  it("creates, lists, compares and cancels runs over REST with the standard library only", async () => {
    const script = fileURLToPath(new URL("../../../examples/python/azr_api.py", import.meta.url));
    const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    // Asynchronous: the server answering the script runs in this process.
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(python, ["-I", script], { env: { PATH: process.env.PATH, AZR_URL: t.url, AZR_TOKEN: t.tokens.alice }, timeout: 30_000 }, (_e, stdout, stderr) =>
        resolve({ status: child.exitCode, stdout, stderr }),
      );
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^created [0-9a-f-]{36} \(from-python\): queued$/m);
    expect(r.stdout).toMatch(/^refused as expected: 400 config\.azr\.batchSize: /m);
    expect(r.stdout).toMatch(/^1 run\(s\) tagged python$/m);
    expect(r.stdout).toMatch(/^cancelled: cancelled$/m);
  });
});
