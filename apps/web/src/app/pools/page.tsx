"use client";
import { useQuery } from "@tanstack/react-query";
import { api } from "../../lib/api.ts";
import { ErrorBox } from "../../components/bits.tsx";

export default function PoolsPage() {
  const pools = useQuery({ queryKey: ["pools"], queryFn: () => api().pools.list.query(), refetchInterval: 5_000 });
  return (
    <>
      <h1>Pools <span className="muted" style={{ fontSize: 13, fontWeight: 400 }}>read-only: pools come from the administrator&apos;s configuration</span></h1>
      <ErrorBox error={pools.error} />
      <div className="panel" style={{ padding: 0 }}>
        <table data-testid="pools">
          <thead><tr><th>Name</th><th>Launcher</th><th>Busy / capacity</th><th>Queued</th><th>GPUs per worker</th><th>Resources</th><th>Images</th></tr></thead>
          <tbody>
            {pools.data?.items.map((p) => (
              <tr key={p.name}>
                <td>{p.name}</td><td>{p.launcher}</td><td>{p.active} / {p.concurrency}</td><td>{p.queued}</td><td>{p.gpusPerWorker}</td>
                <td className="mono">{p.resources ? JSON.stringify(p.resources) : "–"}</td>
                <td className="mono">{Array.isArray(p.images) && p.images.length ? JSON.stringify(p.images) : "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
