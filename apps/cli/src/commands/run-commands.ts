import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { AzrClient, RouterOutputs } from "@azr/client";
import { parse as parseYaml } from "yaml";
import { applySets, parse, RUN_ID, runIdArg, UsageError } from "../args.ts";
import { colors, formatNumber, json, statusColor, table, type Io } from "../output.ts";

type Run = RouterOutputs["runs"]["get"];
type RunSummary = RouterOutputs["runs"]["list"]["items"][number];
const FINISHED = new Set(["completed", "failed", "cancelled"]);

function runLine(io: Io, r: RunSummary): string[] {
  return [r.id, r.name, statusColor(io, r.status), `${r.currentStep}/${r.totalSteps}`, r.poolName, r.ownerName ?? "-", r.tags.join(","), r.createdAt.slice(0, 19).replace("T", " ")];
}

export async function cmdRun(client: () => AzrClient, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    set: { type: "string", multiple: true },
    pool: { type: "string" },
    name: { type: "string" },
    tag: { type: "string", multiple: true },
    watch: { type: "boolean" },
  });
  const source = positionals[0];
  if (!source) throw new UsageError("azr run needs a config file or a preset name");
  let preset: string | undefined;
  let config: Record<string, unknown> = {};
  const file = path.resolve(io.cwd, source);
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(file, "utf8"));
    } catch (e) {
      throw new UsageError(`${source} is not valid YAML/JSON: ${(e as Error).message}`);
    }
    if (parsed !== null && (typeof parsed !== "object" || Array.isArray(parsed))) throw new UsageError(`${source} must hold a mapping of config sections`);
    config = { ...(parsed as Record<string, unknown> | null) };
    if (typeof config.preset === "string") preset = config.preset;
    delete config.preset;
  } else if (/[/\\]|\.(ya?ml|json)$/.test(source)) {
    throw new UsageError(`no such file: ${source}`);
  } else {
    preset = source;
  }
  applySets(config, values.set ?? []);
  const run = await client().runs.create.mutate({
    ...(preset ? { preset: preset as never } : {}),
    config,
    ...(values.pool ? { pool: values.pool } : {}),
    ...(values.name ? { name: values.name } : {}),
    tags: values.tag ?? [],
  });
  if (values.json && !values.watch) {
    json(io, run);
    return 0;
  }
  io.out(`created run ${colors(io).bold(run.id)} (${run.name}) on pool ${run.poolName}: ${run.status}`);
  if (!values.watch) return 0;
  return watch(client(), run, io, Boolean(values.json));
}

/** Live progress: a line per step with the headline metrics, and every status change. */
export async function watch(client: AzrClient, run: Run, io: Io, asJson: boolean): Promise<number> {
  const c = colors(io);
  let status = run.status;
  const headline = (values: Record<string, number>) =>
    Object.entries(values)
      .filter(([k]) => /reward|valid|buffer|loss|accuracy/.test(k))
      .slice(0, 8)
      .map(([k, v]) => `${k}=${formatNumber(v)}`)
      .join("  ");
  return new Promise<number>((resolve) => {
    const finish = (code: number) => {
      events.unsubscribe();
      points.unsubscribe();
      resolve(code);
    };
    const events = client.events.subscribe.subscribe(
      { runId: run.id },
      {
        onData: ({ data: e }) => {
          if (asJson) io.out(JSON.stringify({ type: "event", ...e }));
          else if (e.kind === "transition") io.out(`${c.dim(e.createdAt.slice(11, 19))} ${e.fromStatus} → ${statusColor(io, e.toStatus ?? "")}  ${c.dim(`(${e.actor}: ${e.message})`)}`);
          else io.out(`${c.dim(e.createdAt.slice(11, 19))} ${e.level === "error" ? c.red(e.message) : e.message}`);
          if (e.kind === "transition" && e.toStatus) status = e.toStatus;
          if (FINISHED.has(status)) finish(status === "completed" ? 0 : 1);
        },
        onError: (err) => {
          io.err(`error: live updates failed: ${err.message}`);
          finish(1);
        },
      },
    );
    const points = client.metrics.onPoints.subscribe(
      { runId: run.id },
      {
        onData: ({ data: p }) => {
          if (asJson) io.out(JSON.stringify({ type: "step", ...p }));
          else io.out(`${c.bold(`step ${p.step}/${run.totalSteps}`)}  ${headline(p.values)}`);
        },
        onError: () => {},
      },
    );
    if (FINISHED.has(status)) finish(status === "completed" ? 0 : 1);
  });
}

export async function cmdLs(client: () => AzrClient, argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { status: { type: "string" }, tag: { type: "string" }, owner: { type: "string" }, name: { type: "string" }, pool: { type: "string" }, archived: { type: "boolean" }, limit: { type: "string" } }, false);
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new UsageError("--limit must be an integer from 1 to 200");
  const page = await client().runs.list.query({
    ...(values.status ? { status: values.status.split(",") as never } : {}),
    ...(values.tag ? { tag: values.tag } : {}),
    ...(values.owner ? { owner: values.owner } : {}),
    ...(values.name ? { name: values.name } : {}),
    ...(values.pool ? { pool: values.pool } : {}),
    archived: Boolean(values.archived),
    limit,
  });
  if (values.json) {
    json(io, page);
    return 0;
  }
  if (page.items.length === 0) {
    io.out("no runs");
    return 0;
  }
  io.out(table(["ID", "NAME", "STATUS", "STEP", "POOL", "OWNER", "TAGS", "CREATED (UTC)"], page.items.map((r) => runLine(io, r))));
  if (page.nextCursor) io.out(colors(io).dim(`(more: raise --limit or filter)`));
  return 0;
}

export async function cmdShow(client: () => AzrClient, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {});
  const id = runIdArg(positionals, "show");
  const api = client();
  const [run, latest, checkpoints] = await Promise.all([api.runs.get.query({ id }), api.metrics.latest.query({ runIds: [id] }), api.checkpoints.list.query({ runId: id })]);
  if (values.json) {
    json(io, { run, latest: latest.values, checkpoints: checkpoints.items });
    return 0;
  }
  const c = colors(io);
  io.out(`${c.bold(run.name)}  ${run.id}`);
  io.out(`status     ${statusColor(io, run.status)}${run.failureReason ? `  (${run.failureReason})` : ""}`);
  io.out(`progress   step ${run.currentStep}/${run.totalSteps}, attempt ${run.attempt}`);
  io.out(`owner      ${run.ownerName ?? run.ownerId}   pool ${run.poolName}   model ${run.modelName}`);
  if (run.tags.length) io.out(`tags       ${run.tags.join(", ")}`);
  if (run.parentRunId) io.out(`forked     from ${run.parentRunId} (checkpoint ${run.parentCheckpointId})`);
  io.out(`created    ${run.createdAt}${run.startedAt ? `   started ${run.startedAt}` : ""}${run.finishedAt ? `   finished ${run.finishedAt}` : ""}`);
  if (run.notes) io.out(`notes      ${run.notes}`);
  if (latest.values.length) {
    io.out(`\n${c.bold("latest metrics")}`);
    io.out(table(["KEY", "STEP", "VALUE"], latest.values.map((v) => [v.key, String(v.step ?? "-"), formatNumber(v.value)])));
  }
  if (checkpoints.items.length) {
    io.out(`\n${c.bold("checkpoints")}`);
    io.out(table(["ID", "STEP", "SIZE", "PINNED"], checkpoints.items.map((k) => [k.id, String(k.step), `${(Number(k.sizeBytes) / 1e6).toFixed(1)} MB`, k.pinned ? "yes" : ""])));
  }
  return 0;
}

export async function cmdLogs(client: () => AzrClient, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { follow: { type: "boolean", short: "f" } });
  const id = runIdArg(positionals, "logs");
  const api = client();
  const c = colors(io);
  const print = (e: RouterOutputs["events"]["list"]["items"][number]) => {
    if (values.json) return io.out(JSON.stringify(e));
    const what = e.kind === "transition" ? `${e.fromStatus} → ${statusColor(io, e.toStatus ?? "")} (${e.actor}: ${e.message})` : e.level === "error" ? c.red(e.message) : e.level === "warn" ? c.yellow(e.message) : e.message;
    io.out(`${c.dim(e.createdAt)} ${c.dim(e.level.padEnd(5))} ${what}`);
  };
  // History first (paged), then, with -f, live events after the last one printed.
  let afterId: string | undefined;
  for (;;) {
    const page = await api.events.list.query({ runId: id, ...(afterId ? { afterId } : {}), limit: 1000 });
    page.items.forEach(print);
    afterId = page.lastId ?? undefined;
    if (page.items.length < 1000) break;
  }
  if (!values.follow) return 0;
  const run = await api.runs.get.query({ id });
  if (FINISHED.has(run.status)) return 0;
  return new Promise<number>((resolve) => {
    const sub = api.events.subscribe.subscribe(
      { runId: id, ...(afterId ? { lastEventId: afterId } : {}) },
      {
        onData: ({ data: e }) => {
          print(e);
          if (e.kind === "transition" && e.toStatus && FINISHED.has(e.toStatus)) {
            sub.unsubscribe();
            resolve(0);
          }
        },
        onError: (err) => {
          io.err(`error: ${err.message}`);
          resolve(1);
        },
      },
    );
  });
}

export async function cmdCancelResume(client: () => AzrClient, argv: string[], io: Io, action: "cancel" | "resume"): Promise<number> {
  const { values, positionals } = parse(argv, action === "cancel" ? { reason: { type: "string" } } : {});
  const id = runIdArg(positionals, action);
  const reason = (values as { reason?: string }).reason;
  const run = action === "cancel" ? await client().runs.cancel.mutate({ id, ...(reason ? { reason } : {}) }) : await client().runs.resume.mutate({ id });
  if (values.json) json(io, run);
  else io.out(`run ${run.id}: ${statusColor(io, run.status)}`);
  return 0;
}

export async function cmdFork(client: () => AzrClient, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { "from-step": { type: "string" }, checkpoint: { type: "string" }, set: { type: "string", multiple: true }, name: { type: "string" }, pool: { type: "string" } });
  const id = runIdArg(positionals, "fork");
  const fromStep = values["from-step"] === undefined ? undefined : Number(values["from-step"]);
  if (fromStep !== undefined && (!Number.isInteger(fromStep) || fromStep < 0)) throw new UsageError("--from-step must be a step number");
  if (fromStep === undefined && !values.checkpoint) throw new UsageError("azr fork needs --from-step N or --checkpoint ID");
  const run = await client().runs.fork.mutate({
    id,
    ...(fromStep !== undefined ? { fromStep } : {}),
    ...(values.checkpoint ? { checkpointId: values.checkpoint } : {}),
    config: applySets({}, values.set ?? []),
    ...(values.name ? { name: values.name } : {}),
    ...(values.pool ? { pool: values.pool } : {}),
  });
  if (values.json) json(io, run);
  else io.out(`created run ${colors(io).bold(run.id)} (${run.name}) from run ${id} at step ${run.currentStep}: ${run.status}`);
  return 0;
}

export async function cmdCompare(client: () => AzrClient, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { keys: { type: "string" } });
  if (positionals.length < 2) throw new UsageError("azr compare needs at least two run ids");
  for (const p of positionals) if (!RUN_ID.test(p)) throw new UsageError(`"${p}" is not a run id`);
  const api = client();
  let keys = values.keys?.split(",").filter(Boolean);
  if (!keys) {
    const all = await api.metrics.keys.query({ runIds: positionals });
    keys = all.keys.filter((k) => k.runs === positionals.length).map((k) => k.key).slice(0, 20);
  }
  const cmp = await api.compare.runs.query({ runIds: positionals, keys, series: false });
  if (values.json) {
    json(io, cmp);
    return 0;
  }
  const c = colors(io);
  const names = cmp.runs.map((r) => `${r.name} (${r.id.slice(0, 8)})`);
  io.out(c.bold("config differences"));
  if (cmp.configDiff.length === 0) io.out("  none");
  else io.out(table(["KEY", ...names], cmp.configDiff.map((d) => [d.path, ...cmp.runs.map((r) => JSON.stringify(d.values[r.id] ?? null))])));
  if (keys.length) {
    io.out(`\n${c.bold("metrics")} ${c.dim("(final, [min … max])")}`);
    const cell = (runId: string, key: string) => {
      const s = cmp.summary.find((x) => x.runId === runId && x.key === key);
      return s && s.count > 0 ? `${formatNumber(s.final)} [${formatNumber(s.min)} … ${formatNumber(s.max)}]` : "-";
    };
    io.out(table(["METRIC", ...names], keys.map((k) => [k, ...cmp.runs.map((r) => cell(r.id, k))])));
  }
  return 0;
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function cmdExport(client: () => AzrClient, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { format: { type: "string" }, what: { type: "string" }, keys: { type: "string" }, out: { type: "string" } });
  const id = runIdArg(positionals, "export");
  const format = values.format;
  if (format !== "csv" && format !== "jsonl") throw new UsageError("--format must be csv or jsonl");
  const what = values.what ?? "metrics";
  if (what !== "metrics" && what !== "rollouts") throw new UsageError("--what must be metrics or rollouts");
  const api = client();
  const lines: string[] = [];
  let rows = 0;
  if (what === "metrics") {
    const keys = values.keys?.split(",").filter(Boolean);
    if (format === "csv") lines.push("step,wall_time,key,value");
    let afterStep = -1;
    for (;;) {
      const page = await api.metrics.points.query({ runId: id, afterStep, limit: 20_000, ...(keys ? { keys } : {}) });
      for (const s of page.steps) {
        if (format === "jsonl") lines.push(JSON.stringify(s));
        else for (const [k, v] of Object.entries(s.values)) lines.push([s.step, s.wallTime, csvCell(k), v].join(","));
        rows++;
      }
      if (page.nextAfterStep === null) break;
      afterStep = page.nextAfterStep;
    }
  } else {
    const fields = ["id", "step", "taskType", "role", "purpose", "valid", "invalidReason", "executorStatus", "reward", "advantage", "promptTokens", "responseTokens", "prompt", "response"] as const;
    if (format === "csv") lines.push(fields.join(","));
    let cursor: string | undefined;
    do {
      const page = await api.samples.rollouts.query({ runId: id, order: "asc", limit: 200, ...(cursor ? { cursor } : {}) });
      for (const r of page.items) {
        lines.push(format === "jsonl" ? JSON.stringify(r) : fields.map((f) => csvCell(r[f])).join(","));
        rows++;
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  const text = lines.length ? `${lines.join("\n")}\n` : "";
  if (values.out) {
    writeFileSync(path.resolve(io.cwd, values.out), text);
    io.err(`wrote ${rows} ${what === "metrics" ? "steps" : "rollouts"} to ${values.out}`);
  } else {
    io.out(text.replace(/\n$/, ""));
  }
  return 0;
}
