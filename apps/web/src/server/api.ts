import { createTRPCClient, httpLink, type TRPCClient } from "@trpc/client";
import type { AppRouter } from "@azr/client";
import { SESSION_COOKIE } from "../lib/session.ts";

/** Where the control plane is: AZR_API_URL, read by the dashboard's server at run time. */
export function apiTarget(): URL {
  return new URL(process.env.AZR_API_URL ?? "http://127.0.0.1:4300");
}

/** The API as the signed-in visitor, from the dashboard's server: their session cookie, sent
 * straight to the control plane (no proxy hop). Queries only: mutations need the CSRF header,
 * which only the browser has. */
export function apiForSession(session: string): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${apiTarget().origin}/trpc`,
        headers: { cookie: `${SESSION_COOKIE}=${session}` },
        // Never Next's data cache: every answer is the visitor's, and live.
        fetch: (url, init) => fetch(url, { ...(init as RequestInit), cache: "no-store" }),
      }),
    ],
  });
}
