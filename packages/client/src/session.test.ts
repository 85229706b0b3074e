import { startTestApi, type TestApi } from "@azr/api/testing";
import type { AppRouter } from "@azr/api";
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import { WebSocket as NodeWebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeError } from "./index.ts";

// The dashboard's live connection: its session cookie rides on the upgrade request, and the CSRF
// value from the sign-in response must come in the connection parameters; the cookie alone (what
// a cross-site page could make a browser send) is refused.

describe("live subscriptions with a dashboard session", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi("postgres");
  });
  afterAll(async () => t?.close());

  function sessionClient(cookie: string, params: Record<string, string>) {
    class CookieWebSocket extends NodeWebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { cookie } });
      }
    }
    const ws = createWSClient({ url: `${t.url.replace(/^http/, "ws")}/trpc`, connectionParams: params, WebSocket: CookieWebSocket as unknown as typeof globalThis.WebSocket, lazy: { enabled: true, closeMs: 0 } });
    return { api: createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] }), close: () => ws.close() };
  }

  it("needs the CSRF value in the connection parameters, not just the cookie", async () => {
    const signIn = await fetch(`${t.url}/auth/session`, { method: "POST", body: JSON.stringify({ token: t.tokens.reader }) });
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    const { csrf } = (await signIn.json()) as { csrf: string };
    const good = sessionClient(cookie, { csrf });
    expect((await good.api.tokens.whoami.query()).userName).toBe("reader");
    await good.close();
    const cookieOnly = sessionClient(cookie, {});
    expect(describeError(await cookieOnly.api.tokens.whoami.query().catch((e: unknown) => e))).toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(/^missing credentials/) });
    await cookieOnly.close();
    const forged = sessionClient(cookie, { csrf: "forged" });
    expect(describeError(await forged.api.tokens.whoami.query().catch((e: unknown) => e))).toMatchObject({ code: "UNAUTHORIZED", message: "invalid CSRF token for this session" });
    await forged.close();
  });
});
