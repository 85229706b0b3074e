"use client";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { Fragment, useState } from "react";
import { api, type RouterInputs, type RouterOutputs } from "../../../../lib/api.ts";
import { color, toLine } from "../../../../lib/metrics.ts";
import { toChartSeries } from "../../../../lib/queries.ts";
import { Chart } from "../../../../components/Chart.tsx";
import { Python } from "../../../../components/Python.tsx";
import { ErrorBox, fmt } from "../../../../components/bits.tsx";

type Rollout = RouterOutputs["samples"]["rollouts"]["items"][number];
type TaskType = "abduction" | "deduction" | "induction";

/** Pulls a Python program out of a response (```python fences or <answer> tags). */
function program(r: Rollout): string | null {
  const p = r.parsed as Record<string, unknown> | null;
  if (p && typeof p === "object" && typeof p.program === "string") return p.program;
  const fence = /```python\n([\s\S]*?)```/.exec(r.response);
  if (fence) return fence[1]!;
  const answer = /<answer>([\s\S]*?)<\/answer>/.exec(r.response);
  return answer && /\bdef\s+\w+\s*\(/.test(answer[1]!) ? answer[1]!.trim() : null;
}

export default function SamplesPage() {
  const { id } = useParams<{ id: string }>();
  const [view, setView] = useState<"rollouts" | "buffer">("rollouts");
  const [taskType, setTaskType] = useState<TaskType | "">("");
  const [role, setRole] = useState<"propose" | "solve" | "">("");
  const [valid, setValid] = useState<"" | "true" | "false">("");
  const [step, setStep] = useState("");
  const [search, setSearch] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const run = useQuery({ queryKey: ["runs.get", id], queryFn: () => api().runs.get.query({ id }) });
  const stepNum = step.trim() === "" ? undefined : Number(step);
  const q = search.trim().length >= 3 ? search.trim() : undefined;
  const input: RouterInputs["samples"]["rollouts"] = {
    runId: id,
    limit: 50,
    ...(taskType ? { taskType: [taskType] } : {}),
    ...(role ? { role } : {}),
    ...(valid ? { valid: valid === "true" } : {}),
    ...(stepNum !== undefined && Number.isInteger(stepNum) ? { stepFrom: stepNum, stepTo: stepNum } : {}),
    ...(q ? { search: q } : {}),
  };
  const rollouts = useInfiniteQuery({
    queryKey: ["rollouts", input],
    enabled: view === "rollouts",
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => api().samples.rollouts.query({ ...input, ...(pageParam ? { cursor: pageParam } : {}) }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const bufferInput: RouterInputs["samples"]["buffer"] = { runId: id, limit: 50, ...(taskType ? { taskType: [taskType] } : {}), ...(q ? { search: q } : {}) };
  const buffer = useInfiniteQuery({
    queryKey: ["buffer", bufferInput],
    enabled: view === "buffer",
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => api().samples.buffer.query({ ...bufferInput, ...(pageParam ? { cursor: pageParam } : {}) }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const growth = useQuery({
    queryKey: ["buffer-growth", id],
    queryFn: async () => {
      const keys = (await api().metrics.keys.query({ runIds: [id] })).keys.map((k) => k.key).filter((k) => k.startsWith("buffer/"));
      return keys.length ? toChartSeries((await api().metrics.series.query({ runIds: [id], keys, points: 300 })).series) : [];
    },
  });
  const items = rollouts.data?.pages.flatMap((p) => p.items) ?? [];
  const entries = buffer.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <h1>Samples <Link href={`/runs/${id}`} style={{ fontSize: 14, fontWeight: 400 }}>{run.data?.name ?? id}</Link></h1>
      <div className="tabs">
        <button className={view === "rollouts" ? "active" : ""} onClick={() => setView("rollouts")}>proposals and solutions</button>
        <button className={view === "buffer" ? "active" : ""} onClick={() => setView("buffer")}>task buffers</button>
      </div>
      <div className="row panel" style={{ marginBottom: 12 }}>
        <select value={taskType} onChange={(e) => setTaskType(e.target.value as TaskType | "")} aria-label="task type"><option value="">all task types</option><option>abduction</option><option>deduction</option><option>induction</option></select>
        {view === "rollouts" && (
          <>
            <select value={role} onChange={(e) => setRole(e.target.value as "propose" | "solve" | "")} aria-label="role"><option value="">both roles</option><option value="propose">propose</option><option value="solve">solve</option></select>
            <select value={valid} onChange={(e) => setValid(e.target.value as "" | "true" | "false")} aria-label="validity"><option value="">valid and invalid</option><option value="true">valid</option><option value="false">invalid</option></select>
            <input placeholder="step" value={step} onChange={(e) => setStep(e.target.value)} style={{ width: 80 }} aria-label="step" />
          </>
        )}
        <input placeholder="text search (3+ characters)" value={search} onChange={(e) => setSearch(e.target.value)} aria-label="text search" style={{ width: 240 }} />
      </div>
      <ErrorBox error={rollouts.error ?? buffer.error} />
      {view === "rollouts" && (
        <div className="panel" style={{ padding: 0 }}>
          <table data-testid="rollouts">
            <thead><tr><th>Step</th><th>Type</th><th>Role</th><th>Purpose</th><th>Valid</th><th>Executor</th><th>Reward</th><th>Advantage</th><th>Tokens</th><th>Response</th></tr></thead>
            <tbody>
              {items.map((r) => (
                <Fragment key={r.id}>
                  <tr onClick={() => setOpen(open === r.id ? null : r.id)} style={{ cursor: "pointer" }}>
                    <td>{r.step}</td><td>{r.taskType}</td><td>{r.role}</td><td>{r.purpose}</td>
                    <td>{r.valid ? "✓" : <span className="error" title={r.invalidReason ?? ""}>✗ {r.invalidReason ?? ""}</span>}</td>
                    <td>{r.executorStatus ?? "–"}</td><td className="mono">{fmt(r.reward)}</td><td className="mono">{fmt(r.advantage)}</td>
                    <td className="mono">{r.promptTokens}+{r.responseTokens}</td>
                    <td className="mono" style={{ maxWidth: 380, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }}>{r.response.slice(0, 120)}</td>
                  </tr>
                  {open === r.id && (
                    <tr><td colSpan={10}>
                      <div className="charts" style={{ gridTemplateColumns: "1fr 1fr" }}>
                        <div>{program(r) ? <><h2>Program</h2><Python code={program(r)!} /></> : null}<h2>Parsed</h2><pre className="code">{JSON.stringify(r.parsed, null, 2)}</pre></div>
                        <div><h2>Response</h2><pre className="code">{r.response}</pre><h2>Prompt</h2><pre className="code">{r.prompt}</pre></div>
                      </div>
                    </td></tr>
                  )}
                </Fragment>
              ))}
              {rollouts.isSuccess && items.length === 0 && <tr><td colSpan={10} className="muted">No samples match.</td></tr>}
            </tbody>
          </table>
          {rollouts.hasNextPage && <button onClick={() => void rollouts.fetchNextPage()} style={{ margin: 10 }}>Load more</button>}
        </div>
      )}
      {view === "buffer" && (
        <>
          {growth.data && growth.data.length > 0 && (
            <div style={{ marginBottom: 12 }}><Chart title="Buffer growth" lines={growth.data.map((s, i) => toLine(s, s.key.slice("buffer/".length), color(i), 0))} /></div>
          )}
          <div className="panel" style={{ padding: 0 }}>
            <table data-testid="buffer">
              <thead><tr><th>Added at step</th><th>Type</th><th>Origin</th><th>Program</th><th>Input</th><th>Gold output</th></tr></thead>
              <tbody>
                {entries.map((b) => (
                  <tr key={b.id}>
                    <td>{b.stepAdded}</td><td>{b.taskType}</td><td>{b.origin}</td>
                    <td style={{ maxWidth: 520 }}><Python code={b.program} /></td>
                    <td className="mono">{b.input ?? JSON.stringify(b.inputs)}</td>
                    <td className="mono">{b.output ?? JSON.stringify(b.outputs)}</td>
                  </tr>
                ))}
                {buffer.isSuccess && entries.length === 0 && <tr><td colSpan={6} className="muted">The buffers are empty.</td></tr>}
              </tbody>
            </table>
            {buffer.hasNextPage && <button onClick={() => void buffer.fetchNextPage()} style={{ margin: 10 }}>Load more</button>}
          </div>
        </>
      )}
    </>
  );
}
