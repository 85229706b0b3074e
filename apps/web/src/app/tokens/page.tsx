"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api } from "../../lib/api.ts";
import { readSession, type SessionInfo } from "../../lib/session.ts";
import { ago, ErrorBox } from "../../components/bits.tsx";

type Scope = "read" | "write" | "admin";

export default function TokensPage() {
  const qc = useQueryClient();
  const [session, setSession] = useState<SessionInfo | null>(null);
  useEffect(() => setSession(readSession()), []);
  const admin = session?.scope === "admin";
  const [all, setAll] = useState(false);
  const [revoked, setRevoked] = useState(false);
  const [name, setName] = useState("");
  const [scope, setScope] = useState<Scope>("read");
  const [user, setUser] = useState("");
  const [days, setDays] = useState("");
  const [created, setCreated] = useState<string | null>(null);
  const list = useQuery({ queryKey: ["tokens", all, revoked], queryFn: () => api().tokens.list.query({ all: all && admin, includeRevoked: revoked }) });
  const create = useMutation({
    mutationFn: () => api().tokens.create.mutate({ name, scopes: [scope], ...(user.trim() ? { user: user.trim() } : {}), ...(days.trim() ? { expiresInDays: Number(days) } : {}) }),
    onSuccess: (r) => {
      setCreated(r.token);
      setName("");
      void qc.invalidateQueries({ queryKey: ["tokens"] });
    },
  });
  const revoke = useMutation({ mutationFn: (id: string) => api().tokens.revoke.mutate({ id }), onSuccess: () => qc.invalidateQueries({ queryKey: ["tokens"] }) });
  return (
    <>
      <h1>API tokens</h1>
      <form className="panel row" style={{ marginBottom: 12 }} onSubmit={(e) => { e.preventDefault(); setCreated(null); create.mutate(); }}>
        <input placeholder="token name" value={name} onChange={(e) => setName(e.target.value)} aria-label="token name" />
        <select value={scope} onChange={(e) => setScope(e.target.value as Scope)} aria-label="scope"><option>read</option><option>write</option><option>admin</option></select>
        {admin && <input placeholder="for user (default: you)" value={user} onChange={(e) => setUser(e.target.value)} aria-label="user" />}
        <input placeholder="expires in days (optional)" value={days} onChange={(e) => setDays(e.target.value)} aria-label="expires in days" style={{ width: 190 }} />
        <button className="primary" type="submit" disabled={!name.trim() || create.isPending}>Create token</button>
      </form>
      <ErrorBox error={create.error ?? revoke.error ?? list.error} />
      {created && (
        <div className="panel" style={{ marginBottom: 12, borderColor: "#3fb950" }} data-testid="new-token">
          Copy the new token now; it is not shown again: <code>{created}</code> <button onClick={() => void navigator.clipboard?.writeText(created)}>Copy</button>
        </div>
      )}
      <div className="row" style={{ marginBottom: 8 }}>
        {admin && <label className="row muted" style={{ gap: 4 }}><input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> every user&apos;s tokens</label>}
        <label className="row muted" style={{ gap: 4 }}><input type="checkbox" checked={revoked} onChange={(e) => setRevoked(e.target.checked)} /> include revoked</label>
      </div>
      <div className="panel" style={{ padding: 0 }}>
        <table data-testid="tokens">
          <thead><tr><th>Name</th><th>User</th><th>Prefix</th><th>Scopes</th><th>Created</th><th>Last used</th><th>Expires</th><th /></tr></thead>
          <tbody>
            {list.data?.items.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td><td>{t.userName}</td><td className="mono">{t.prefix}</td><td>{t.scopes.join(", ")}</td>
                <td>{ago(t.createdAt)}</td><td>{ago(t.lastUsedAt)}</td><td>{t.expiresAt ? new Date(t.expiresAt).toLocaleDateString() : "never"}</td>
                <td>{t.revokedAt ? <span className="muted">revoked</span> : <button className="danger" onClick={() => confirm(`Revoke ${t.name}?`) && revoke.mutate(t.id)}>Revoke</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
