import { NextResponse, type NextRequest } from "next/server";
import { SESSION_COOKIE } from "./lib/session.ts";

// A visit without the session cookie goes to sign-in (the API still checks the cookie on every
// call; an expired or revoked session is sent back to sign-in by the client on its first 401).
export function proxy(request: NextRequest) {
  if (request.cookies.has(SESSION_COOKIE)) return NextResponse.next();
  const url = request.nextUrl.clone();
  url.pathname = "/signin";
  url.search = `?next=${encodeURIComponent(request.nextUrl.pathname + request.nextUrl.search)}`;
  return NextResponse.redirect(url);
}

export const config = {
  matcher: ["/((?!signin|_next/|favicon.ico|trpc|auth/|api/|healthz).*)"],
};
