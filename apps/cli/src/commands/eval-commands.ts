import type { AzrClient, RouterInputs, RouterOutputs } from "@azr/client";
import { applySets, parse, RUN_ID, UsageError } from "../args.ts";
import { colors, formatNumber, json, statusColor, table, type Io } from "../output.ts";

// `azr eval`: start evaluations of a run's checkpoint or a catalogue model, follow them, list,
// show, compare and cancel them. Everything goes through the `evals` API router.

type EvalSummary = RouterOutputs["evals"]["list"]["items"][number];
type StartInput = RouterInputs["evals"]["start"];
const FINISHED = new Set(["completed", "failed", "cancelled"]);
const CATEGORIES = { a: "a-only", b: "b-only", both: "both", neither: "neither" } as const;

function evalIdArg(positionals: string[], what: string): string {
  const id = positionals[0];
  if (!id) throw new UsageError(`azr eval ${what} needs an evaluation id (azr eval list shows them)`);
  if (!RUN_ID.test(id)) throw new UsageError(`"${id}" is not an evaluation id (a uuid, as azr eval list shows)`);
  return id;
}

function intOption(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}`);
  return n;
}

/** pass@k (by k), then accuracy, solved, total: the database keeps JSON keys in its own order. */
function scoreKeys(scores: Record<string, number>): string[] {
  const rank = (k: string) => (k.startsWith("pass@") ? Number(k.slice(5)) : 1e9 + ["accuracy", "solved", "total"].indexOf(k) + 1);
  return Object.keys(scores).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

const score = (e: EvalSummary) => (e.scores["pass@1"] === undefined ? "-" : formatNumber(e.scores["pass@1"]));
const progressOf = (e: EvalSummary) => (e.problemsTotal ? `${e.problemsDone}/${e.problemsTotal}` : "-");
const subjectOf = (e: EvalSummary) => (e.runId ? `run ${e.runId.slice(0, 8)} @ step ${e.step ?? "?"}` : `model ${e.modelName ?? "?"}`);

function evalRows(io: Io, items: EvalSummary[]): string {
  return table(
    ["ID", "BENCHMARK", "SUBJECT", "STATUS", "PROBLEMS", "PASS@1", "ORIGIN", "CREATED (UTC)"],
    items.map((e) => [e.id, e.benchmark, subjectOf(e), statusColor(io, e.status), progressOf(e), score(e), e.origin, e.createdAt.slice(0, 19).replace("T", " ")]),
  );
}

export async function cmdEval(client: () => AzrClient, argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "list":
      return evalList(client, rest, io);
    case "show":
      return evalShow(client, rest, io);
    case "compare":
      return evalCompare(client, rest, io);
    case "cancel":
      return evalCancel(client, rest, io);
    case "benchmarks":
      return evalBenchmarks(client, rest, io);
    case undefined:
      throw new UsageError("azr eval needs a run id or a model name (or list, show, compare, cancel, benchmarks)");
    default:
      return evalStart(client, argv, io);
  }
}

async function evalStart(client: () => AzrClient, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    bench: { type: "string", multiple: true },
    checkpoint: { type: "string" },
    template: { type: "string" },
    "max-tokens": { type: "string" },
    samples: { type: "string" },
    limit: { type: "string" },
    set: { type: "string", multiple: true },
    pool: { type: "string" },
    priority: { type: "string" },
    wait: { type: "boolean" },
  });
  const subject = positionals[0]!;
  const benchmarks = (values.bench ?? []).flatMap((b) => b.split(",")).filter(Boolean);
  if (benchmarks.length === 0) throw new UsageError("azr eval needs --bench NAME[,NAME...] (azr eval benchmarks lists them)");
  const isRun = RUN_ID.test(subject);
  const step = intOption(values.checkpoint, "checkpoint", 0);
  if (step !== undefined && !isRun) throw new UsageError("--checkpoint STEP selects a run's checkpoint; a catalogue model has none");
  if (values.template !== undefined && values.template !== "azr" && values.template !== "base") throw new UsageError("--template must be azr or base");
  const overrides = applySets({}, values.set ?? []) as Record<string, unknown> & { decoding?: Record<string, unknown> };
  const maxTokens = intOption(values["max-tokens"], "max-tokens", 1);
  const samples = intOption(values.samples, "samples", 1);
  if (maxTokens !== undefined || samples !== undefined) {
    overrides.decoding = { ...overrides.decoding, ...(maxTokens !== undefined ? { maxTokens } : {}), ...(samples !== undefined ? { n: samples } : {}) };
  }
  const limit = intOption(values.limit, "limit", 1);
  if (limit !== undefined) overrides.limit = limit;
  const priority = intOption(values.priority, "priority", -100);
  const input = {
    ...(isRun ? { runId: subject } : { model: subject }),
    ...(step !== undefined ? { step } : {}),
    benchmarks,
    ...(Object.keys(overrides).length ? { overrides } : {}),
    ...(values.template ? { template: values.template } : {}),
    ...(values.pool ? { pool: values.pool } : {}),
    ...(priority !== undefined ? { priority } : {}),
  } as StartInput;
  const api = client();
  const started = await api.evals.start.mutate(input);
  if (values.json && !values.wait) {
    json(io, started);
    return 0;
  }
  const c = colors(io);
  if (!values.json) {
    const first = started.items[0]!;
    io.out(`queued eval job ${c.bold(started.jobId)} on ${subjectOf(first)}: ${started.items.map((e) => `${e.benchmark} (${e.id})`).join(", ")}`);
  }
  if (!values.wait) return 0;
  return waitFor(api, started.items.map((e) => e.id), io, Boolean(values.json));
}

/** Follows evaluations until all have finished: a line per change, then the scores. */
async function waitFor(api: AzrClient, ids: string[], io: Io, asJson: boolean): Promise<number> {
  const c = colors(io);
  const last = new Map<string, string>();
  let final: EvalSummary[] = [];
  const code = await new Promise<number>((resolve) => {
    const sub = api.evals.watch.subscribe(
      { ids },
      {
        onData: ({ items }) => {
          final = items;
          for (const e of items) {
            const line = `${e.status} ${progressOf(e)}`;
            if (last.get(e.id) === line) continue;
            last.set(e.id, line);
            if (asJson) io.out(JSON.stringify({ type: "eval", ...e }));
            else io.out(`${c.dim(new Date().toISOString().slice(11, 19))} ${e.benchmark.padEnd(24)} ${statusColor(io, e.status)}  ${progressOf(e)}${e.error ? `  ${c.dim(e.error)}` : ""}`);
          }
          if (items.every((e) => FINISHED.has(e.status))) {
            sub.unsubscribe();
            resolve(items.every((e) => e.status === "completed") ? 0 : 1);
          }
        },
        onError: (err) => {
          io.err(`error: live updates failed: ${err.message}`);
          resolve(1);
        },
      },
    );
  });
  if (!asJson && final.length) {
    const keys = scoreKeys(Object.fromEntries(final.flatMap((e) => Object.entries(e.scores))));
    io.out(`\n${c.bold("scores")}`);
    io.out(table(["BENCHMARK", "STATUS", ...keys.map((k) => k.toUpperCase())], final.map((e) => [e.benchmark, statusColor(io, e.status), ...keys.map((k) => formatNumber(e.scores[k]))])));
  }
  return code;
}

async function evalList(client: () => AzrClient, argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { run: { type: "string" }, bench: { type: "string" }, model: { type: "string" }, status: { type: "string" }, origin: { type: "string" }, limit: { type: "string" } }, false);
  if (values.run !== undefined && !RUN_ID.test(values.run)) throw new UsageError(`--run "${values.run}" is not a run id`);
  if (values.origin !== undefined && values.origin !== "user" && values.origin !== "periodic") throw new UsageError("--origin must be user or periodic");
  const limit = intOption(values.limit, "limit", 1) ?? 50;
  const page = await client().evals.list.query({
    ...(values.run ? { runId: values.run } : {}),
    ...(values.bench ? { benchmark: values.bench } : {}),
    ...(values.model ? { model: values.model } : {}),
    ...(values.status ? { status: values.status.split(",") as never } : {}),
    ...(values.origin ? { origin: values.origin as "user" | "periodic" } : {}),
    limit,
  });
  if (values.json) {
    json(io, page);
    return 0;
  }
  if (page.items.length === 0) {
    io.out("no evaluations");
    return 0;
  }
  io.out(evalRows(io, page.items));
  if (page.nextCursor) io.out(colors(io).dim("(more: raise --limit or filter)"));
  return 0;
}

const clip = (s: string | null, n = 100) => (s === null ? "-" : (s.length > n ? `${s.slice(0, n)}…` : s).replace(/\s+/g, " "));

async function evalShow(client: () => AzrClient, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { problems: { type: "boolean" }, failed: { type: "boolean" }, solved: { type: "boolean" }, limit: { type: "string" } });
  const id = evalIdArg(positionals, "show");
  if (values.failed && values.solved) throw new UsageError("give --failed or --solved, not both");
  const limit = intOption(values.limit, "limit", 1) ?? 50;
  const showProblems = values.problems || values.failed || values.solved;
  const e = await client().evals.get.query({ id, limit, ...(values.failed ? { solved: false } : values.solved ? { solved: true } : {}) });
  if (values.json) {
    json(io, e);
    return 0;
  }
  const c = colors(io);
  io.out(`${c.bold(e.benchmark)}  ${e.id}`);
  io.out(`status     ${statusColor(io, e.status)}${e.error ? `  (${e.error})` : ""}`);
  io.out(`subject    ${subjectOf(e)}${e.checkpointId ? ` (checkpoint ${e.checkpointId})` : ""}   origin ${e.origin}${e.createdByName ? ` by ${e.createdByName}` : ""}`);
  io.out(`progress   ${progressOf(e)} problems`);
  const settings = e.settings as { template?: string; definition?: { decoding?: Record<string, number> } } | null;
  const d = settings?.definition?.decoding;
  if (d) io.out(`decoding   temperature=${d.temperature} topP=${d.topP} maxTokens=${d.maxTokens} n=${d.n}   template ${settings?.template}`);
  io.out(`created    ${e.createdAt}${e.startedAt ? `   started ${e.startedAt}` : ""}${e.finishedAt ? `   finished ${e.finishedAt}` : ""}`);
  if (Object.keys(e.scores).length) io.out(`scores     ${scoreKeys(e.scores).map((k) => `${k}=${formatNumber(e.scores[k])}`).join("  ")}`);
  if (showProblems) {
    io.out("");
    io.out(table(["PROBLEM", "CORRECT", "STATUS", "ANSWER", "DETAIL"], e.problems.items.map((p) => [p.problemId, `${p.correct}/${p.n}`, p.samples.map((s) => s.status).join(","), clip(p.samples[0]?.extracted ?? null, 60), clip(p.samples[0]?.detail ?? null, 60)])));
    if (e.problems.nextAfterIndex !== null) io.out(c.dim("(more: raise --limit)"));
  }
  return 0;
}

async function evalCompare(client: () => AzrClient, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { only: { type: "string" }, limit: { type: "string" } });
  const a = evalIdArg(positionals, "compare");
  const b = evalIdArg(positionals.slice(1), "compare");
  if (values.only !== undefined && !(values.only in CATEGORIES)) throw new UsageError("--only must be a, b, both or neither");
  const limit = intOption(values.limit, "limit", 1) ?? 50;
  const cmp = await client().evals.compare.query({ a, b, limit, ...(values.only ? { category: CATEGORIES[values.only as keyof typeof CATEGORIES] } : {}) });
  if (values.json) {
    json(io, cmp);
    return 0;
  }
  const c = colors(io);
  io.out(`${c.bold(cmp.a.benchmark)}: A = ${subjectOf(cmp.a)} (pass@1 ${score(cmp.a)}), B = ${subjectOf(cmp.b)} (pass@1 ${score(cmp.b)})`);
  const n = cmp.counts;
  io.out(`solved by A only ${n.aOnly}   by B only ${n.bOnly}   by both ${n.both}   by neither ${n.neither}${n.missingInA || n.missingInB ? `   (only in A: ${n.missingInB}, only in B: ${n.missingInA})` : ""}`);
  if (cmp.items.length) {
    io.out("");
    io.out(table(["PROBLEM", "WHO", "A ANSWER", "B ANSWER"], cmp.items.map((i) => [i.problemId, i.category, clip(i.a.samples[0]?.extracted ?? null, 50), clip(i.b.samples[0]?.extracted ?? null, 50)])));
    if (cmp.nextAfterIndex !== null) io.out(c.dim("(more: raise --limit)"));
  }
  return 0;
}

async function evalCancel(client: () => AzrClient, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { reason: { type: "string" } });
  const id = evalIdArg(positionals, "cancel");
  const e = await client().evals.cancel.mutate({ id, ...(values.reason ? { reason: values.reason } : {}) });
  if (values.json) json(io, e);
  else io.out(`evaluation ${e.id} (${e.benchmark}): ${statusColor(io, e.status)}`);
  return 0;
}

async function evalBenchmarks(client: () => AzrClient, argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {}, false);
  const list = await client().evals.benchmarks.query();
  if (values.json) {
    json(io, list);
    return 0;
  }
  io.out(
    table(
      ["NAME", "KIND", "FORMAT", "MAX TOKENS", "DATA"],
      list.items.map((b) => [b.name, b.kind, b.format, String(b.decoding.maxTokens), b.source ?? colors(io).yellow("no source (set benchmarks.<name>.source in the admin file)")]),
    ),
  );
  return 0;
}
