// The dashboard's session. Signing in posts the API token once to /auth/session, which answers
// with an HttpOnly session cookie and a CSRF value; the token itself is never stored anywhere in
// the browser. The CSRF value (useless without the cookie, which scripts cannot read) and the
// user's name and scope are kept in localStorage so mutations work across tabs and reloads.

export interface SessionInfo {
  csrf: string;
  user: string;
  scope: "read" | "write" | "admin";
  expiresAt: string;
}

const KEY = "azr.session";
/** The session cookie's name (set by the API's /auth/session; src/proxy.ts and the server's
 * prefetch read it). */
export const SESSION_COOKIE = "azr_session";

export function readSession(): SessionInfo | null {
  if (typeof window === "undefined") return null;
  try {
    const raw = window.localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as SessionInfo) : null;
  } catch {
    return null;
  }
}

export async function signIn(token: string): Promise<{ ok: true; session: SessionInfo } | { ok: false; message: string }> {
  const res = await fetch("/auth/session", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: token.trim() }),
    credentials: "same-origin",
  });
  const body = (await res.json().catch(() => ({}))) as Partial<SessionInfo> & { error?: { message?: string } };
  if (!res.ok) return { ok: false, message: body.error?.message ?? `sign-in failed (${res.status})` };
  const session: SessionInfo = { csrf: body.csrf!, user: body.user!, scope: body.scope!, expiresAt: body.expiresAt! };
  window.localStorage.setItem(KEY, JSON.stringify(session));
  return { ok: true, session };
}

export async function signOut(): Promise<void> {
  window.localStorage.removeItem(KEY);
  await fetch("/auth/session", { method: "DELETE", credentials: "same-origin" }).catch(() => undefined);
}

export function forgetSession(): void {
  if (typeof window !== "undefined") window.localStorage.removeItem(KEY);
}
