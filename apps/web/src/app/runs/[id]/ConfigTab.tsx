"use client";
import YAML from "yaml";
import type { Run } from "../../../lib/api.ts";

/** The run's config and reproducibility record, as YAML. */
export default function ConfigTab({ run }: { run: Run }) {
  return (
    <div className="charts">
      <div className="panel"><h2 style={{ marginTop: 0 }}>Config</h2><pre className="code" data-testid="config-yaml">{YAML.stringify(run.config)}</pre></div>
      <div className="panel"><h2 style={{ marginTop: 0 }}>Reproducibility record</h2>
        {run.reproducibility ? <pre className="code" data-testid="repro">{YAML.stringify(run.reproducibility)}</pre> : <p className="muted">Recorded when an attempt starts.</p>}
        <dl className="kv"><dt>seed</dt><dd className="mono">{run.seed}</dd><dt>attempt</dt><dd>{run.attempt}</dd></dl>
      </div>
    </div>
  );
}
