"use client";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { resetClient } from "../../lib/api.ts";
import { signIn } from "../../lib/session.ts";

function SignInForm() {
  const router = useRouter();
  const params = useSearchParams();
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const next = params.get("next");
  const target = next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
  return (
    <form
      className="panel signin"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        const r = await signIn(token).catch((err: unknown) => ({ ok: false as const, message: String(err) }));
        setBusy(false);
        if (!r.ok) return setError(r.message);
        setToken(""); // the token lives nowhere once exchanged for the session cookie
        resetClient();
        router.replace(target);
      }}
    >
      <h1>Sign in to AZR Platform</h1>
      <p className="muted">Paste an API token (<code>azr_pat_…</code>). It is exchanged for a session cookie and not stored in the browser.</p>
      <label htmlFor="token" className="muted">API token</label>
      <input id="token" name="token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} style={{ width: "100%", margin: "6px 0 12px" }} />
      {error && <p className="error" role="alert">{error}</p>}
      <button className="primary" type="submit" disabled={busy || token.trim() === ""}>{busy ? "Signing in…" : "Sign in"}</button>
      <p className="muted" style={{ marginTop: 16, fontSize: 12.5 }}>
        The first start of the server prints an admin token; create more with <code>azr token create NAME</code> or on the Tokens page.
      </p>
    </form>
  );
}

export default function SignInPage() {
  return (
    <Suspense>
      <SignInForm />
    </Suspense>
  );
}
