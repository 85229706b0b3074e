"use client";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useEffect, useMemo, useState } from "react";
import YAML from "yaml";
import { deepMerge, PRESET_NAMES, PRESETS, runConfigSchema, type PresetName } from "@azr/azr";
import { api, errorMessage } from "../../lib/api.ts";
import { diffFrom, fieldsOf, getPath, issuesByPath, setPath, type FieldSpec } from "../../lib/schema-form.ts";
import { ErrorBox } from "../../components/bits.tsx";

/** Form sections, as the issue groups them; `prompts.overrides` (free text templates) lives in the YAML view. */
const SECTIONS: { key: string; title: string }[] = [
  { key: "model", title: "Model" },
  { key: "azr", title: "Algorithm (AZR and the section-9 switches)" },
  { key: "optim", title: "Optimizer and rewards" },
  { key: "sampling", title: "Sampling" },
  { key: "schedule", title: "Schedule" },
  { key: "executor", title: "Executor" },
  { key: "prompts", title: "Prompts" },
];
const ALL_FIELDS = fieldsOf(runConfigSchema).filter((f) => !(f.path[0] === "prompts" && f.path[1] === "overrides"));

function LaunchForm() {
  const router = useRouter();
  const params = useSearchParams();
  const from = params.get("from");
  const [preset, setPreset] = useState<PresetName | "">("tiny-cpu");
  const [config, setConfig] = useState<Record<string, unknown>>({});
  const [name, setName] = useState("");
  const [tags, setTags] = useState("");
  const [notes, setNotes] = useState("");
  const [pool, setPool] = useState("");
  const [yamlText, setYamlText] = useState<string | null>(null);
  const [yamlError, setYamlError] = useState<string | null>(null);

  const pools = useQuery({ queryKey: ["pools"], queryFn: () => api().pools.list.query(), refetchInterval: 5_000 });
  const source = useQuery({ queryKey: ["runs.get", from], enabled: !!from, queryFn: () => api().runs.get.query({ id: from! }) });
  useEffect(() => {
    if (!source.data) return;
    setPreset("");
    setConfig(source.data.config as Record<string, unknown>);
    setName(`${source.data.name}-clone`);
    setTags(source.data.tags.join(", "));
  }, [source.data]);

  const base = useMemo(() => (preset ? (PRESETS[preset] as unknown as Record<string, unknown>) : {}), [preset]);
  const merged = useMemo(() => deepMerge(base, config) as Record<string, unknown>, [base, config]);
  const parsed = useMemo(() => runConfigSchema.safeParse(merged), [merged]);
  const issues = useMemo(() => issuesByPath(parsed.success ? undefined : parsed.error), [parsed]);
  // What the form shows: the parsed config (defaults filled in) where valid, else the raw values
  // over the defaults (so one bad field leaves every other field showing its value).
  const defaults = useMemo(() => runConfigSchema.safeParse(base).data ?? runConfigSchema.parse({}), [base]);
  const shown = parsed.success ? (parsed.data as Record<string, unknown>) : (deepMerge(defaults, merged) as Record<string, unknown>);
  const full = useMemo(() => (parsed.success ? parsed.data : runConfigSchema.safeParse(deepMerge(base, {})).data), [parsed, base]);

  const launch = useMutation({
    mutationFn: () => {
      const overrides = diffFrom(preset ? runConfigSchema.parse(base) : {}, parsed.success ? parsed.data : merged);
      return api().runs.create.mutate({
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(preset ? { preset } : {}),
        ...(overrides ? { config: overrides } : {}),
        ...(pool ? { pool } : {}),
        tags: tags.split(",").map((t) => t.trim()).filter(Boolean),
        notes,
      });
    },
    onSuccess: (run) => router.push(`/runs/${run.id}`),
  });
  // A server-side field error ("config.azr.batchSize: …") is shown at its field too.
  const serverIssue = launch.error ? /^config\.([\w.]+): (.*)$/.exec(errorMessage(launch.error)) : null;

  const setField = (f: FieldSpec, v: unknown) => setConfig((c) => setPath(c, f.path, v));
  const render = (f: FieldSpec) => {
    const key = f.path.join(".");
    const value = getPath(shown, f.path);
    const err = issues.get(key) ?? (serverIssue?.[1] === key ? serverIssue[2] : undefined);
    const label = f.path.length > 1 ? f.path.slice(1).join(".") : f.path[0]!;
    let input;
    if (f.kind === "number" || f.kind === "string") {
      input = (
        <input
          name={key}
          aria-invalid={!!err}
          inputMode={f.kind === "number" ? "decimal" : undefined}
          value={value === undefined || value === null ? "" : String(value)}
          onChange={(e) => {
            const raw = e.target.value;
            if (f.kind === "string") return setField(f, raw);
            const n = Number(raw);
            setField(f, raw.trim() !== "" && Number.isFinite(n) ? n : raw);
          }}
        />
      );
    } else if (f.kind === "enum") {
      input = <select name={key} value={String(value ?? "")} onChange={(e) => setField(f, e.target.value)}>{f.options.map((o) => <option key={o}>{o}</option>)}</select>;
    } else if (f.kind === "boolean") {
      input = <input type="checkbox" name={key} checked={value === true} onChange={(e) => setField(f, e.target.checked)} />;
    } else {
      const list = Array.isArray(value) ? (value as unknown[]).map(String) : [];
      input = (
        <input
          name={key}
          aria-invalid={!!err}
          value={list.join(", ")}
          title={f.kind === "enum-list" ? `any of ${f.options.join(", ")}` : undefined}
          onChange={(e) => setField(f, e.target.value.split(",").map((s) => s.trim()).filter(Boolean))}
        />
      );
    }
    return (
      <label key={key}>
        {label}
        {input}
        {err && <span className="field-error" role="alert" data-field={key}>{err}</span>}
      </label>
    );
  };

  const selectedPool = pools.data?.items.find((p) => p.name === pool) ?? pools.data?.items[0];
  return (
    <>
      <h1>Launch a run</h1>
      <div className="panel" style={{ marginBottom: 12 }}>
        <div className="form-grid">
          <label>Preset
            <select value={preset} aria-label="preset" onChange={(e) => { setPreset(e.target.value as PresetName | ""); setConfig({}); }}>
              <option value="">(none: schema defaults{from ? ", cloned config" : ""})</option>
              {PRESET_NAMES.map((p) => <option key={p} value={p}>{p}</option>)}
            </select>
          </label>
          <label>Name<input name="name" value={name} onChange={(e) => setName(e.target.value)} placeholder="generated when empty" /></label>
          <label>Tags (comma-separated)<input name="tags" value={tags} onChange={(e) => setTags(e.target.value)} /></label>
          <label>Pool
            <select value={pool} aria-label="pool" onChange={(e) => setPool(e.target.value)}>
              <option value="">default</option>
              {pools.data?.items.map((p) => <option key={p.name} value={p.name}>{p.name} ({p.launcher}) — {p.active}/{p.concurrency} busy, {p.queued} queued</option>)}
            </select>
          </label>
        </div>
        {selectedPool && <p className="muted" data-testid="pool-info">Pool {selectedPool.name}: {selectedPool.active} of {selectedPool.concurrency} slots busy, {selectedPool.queued} queued{selectedPool.gpusPerWorker ? `, ${selectedPool.gpusPerWorker} GPUs per worker` : ""}.</p>}
        <label className="muted" style={{ display: "block" }}>Notes<textarea rows={2} value={notes} onChange={(e) => setNotes(e.target.value)} /></label>
      </div>
      <div style={{ display: "grid", gridTemplateColumns: "minmax(0, 3fr) minmax(0, 2fr)", gap: 12 }}>
        <div>
          {SECTIONS.map((s) => (
            <fieldset key={s.key}>
              <legend>{s.title}</legend>
              <div className="form-grid">{ALL_FIELDS.filter((f) => f.path[0] === s.key).map(render)}</div>
            </fieldset>
          ))}
          {ALL_FIELDS.filter((f) => f.path.length === 1).length > 0 && (
            <fieldset><legend>Run</legend><div className="form-grid">{ALL_FIELDS.filter((f) => f.path.length === 1).map(render)}</div></fieldset>
          )}
        </div>
        <div>
          <div className="panel" style={{ position: "sticky", top: 60 }}>
            <div className="row"><strong>YAML</strong><span className="grow" />
              <button onClick={() => void navigator.clipboard?.writeText(YAML.stringify(full ?? merged))}>Copy</button>
              {yamlText === null ? <button onClick={() => setYamlText(YAML.stringify(full ?? merged))}>Edit / paste</button> : (
                <button onClick={() => {
                  try {
                    const v = YAML.parse(yamlText) as unknown;
                    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("the YAML must be a mapping (the run config)");
                    setPreset("");
                    setConfig(v as Record<string, unknown>);
                    setYamlText(null);
                    setYamlError(null);
                  } catch (e) {
                    setYamlError(e instanceof Error ? e.message : String(e));
                  }
                }}>Apply YAML</button>
              )}
            </div>
            {yamlText === null ? <pre className="code" data-testid="yaml" style={{ maxHeight: 520 }}>{YAML.stringify(shown)}</pre> : <textarea rows={24} value={yamlText} onChange={(e) => setYamlText(e.target.value)} aria-label="yaml editor" />}
            {yamlError && <p className="error">{yamlError}</p>}
            {!parsed.success && <p className="error" data-testid="invalid-summary">{issues.size} field{issues.size === 1 ? "" : "s"} to fix: {[...issues.keys()].join(", ")}</p>}
            <ErrorBox error={launch.error} />
            <button className="primary" style={{ marginTop: 8, width: "100%" }} disabled={!parsed.success || launch.isPending} onClick={() => launch.mutate()}>
              {launch.isPending ? "Launching…" : "Launch"}
            </button>
          </div>
        </div>
      </div>
    </>
  );
}

export default function LaunchPage() {
  return (
    <Suspense>
      <LaunchForm />
    </Suspense>
  );
}
