"use client";
import { useQuery } from "@tanstack/react-query";
import { api } from "../../lib/api.ts";
import { ErrorBox } from "../../components/bits.tsx";

export default function ModelsPage() {
  const models = useQuery({ queryKey: ["models"], queryFn: () => api().models.list.query() });
  return (
    <>
      <h1>Models <span className="muted" style={{ fontSize: 13, fontWeight: 400 }}>read-only: the model catalogue of the administrator&apos;s configuration</span></h1>
      <ErrorBox error={models.error} />
      <div className="panel" style={{ padding: 0 }}>
        <table data-testid="models">
          <thead><tr><th>Name</th><th>Backend</th><th>Source</th><th>Tokenizer</th><th>Trust remote code</th></tr></thead>
          <tbody>
            {models.data?.items.map((m) => (
              <tr key={m.name}><td>{m.name}</td><td>{m.backend}</td><td className="mono">{typeof m.source === "string" ? m.source : JSON.stringify(m.source)}</td><td className="mono">{m.tokenizer ?? "–"}</td><td>{m.trustRemoteCode ? "yes" : "no"}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
