import { z } from "zod";
import { compareInput } from "./features/compare/compare.schema.ts";
import { cancelEvalInput, compareEvalsInput, getEvalInput, listEvalsInput, startEvalInput } from "./features/evals/evals.schema.ts";
import { listEventsInput } from "./features/events/events.schema.ts";
import { keysInput, latestInput, pointsInput, seriesInput } from "./features/metrics/metrics.schema.ts";
import { listCheckpointsInput } from "./features/checkpoints/checkpoints.schema.ts";
import { archiveRunInput, cancelRunInput, createRunInput, forkRunInput, listRunsInput, runIdInput, updateRunInput } from "./features/runs/runs.schema.ts";
import { bufferInput, rolloutsInput } from "./features/samples/samples.schema.ts";
import { createTokenInput, listTokensInput, revokeTokenInput } from "./features/tokens/tokens.schema.ts";
import { listWorkersInput } from "./features/catalogue/catalogue.schema.ts";

// The REST/JSON surface for callers without a tRPC client (Python, curl). Each route names the
// tRPC procedure it calls and the zod schema of that procedure's input, so validation, auth and
// behaviour are the procedure's own, and the OpenAPI document is generated from the same schemas.

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";
type Params = Record<string, string>;
type Query = URLSearchParams;

export interface RestRoute {
  method: HttpMethod;
  /** `/api/v1/runs/{id}` style; `{x}` segments become path parameters. */
  path: string;
  /** dotted tRPC procedure path */
  procedure: string;
  summary: string;
  schema: z.ZodType;
  /** GET: the procedure input built from path and query parameters; others: merged into the body. */
  input: (p: { params: Params; query: Query; body: unknown }) => unknown;
  /** Query parameter names (GET) for the OpenAPI document. */
  queryParams?: string[];
}

/** Query strings only carry text: numbers, booleans and lists are converted here; anything that
 * does not convert is passed on as text so the schema reports the field. */
function q(query: Query, spec: Record<string, "string" | "number" | "boolean" | "list" | "numberList">): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(spec)) {
    const all = query.getAll(name);
    if (all.length === 0) continue;
    const raw = all[all.length - 1]!;
    switch (kind) {
      case "number":
        out[name] = raw.trim() !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
        break;
      case "boolean":
        out[name] = raw === "true" ? true : raw === "false" ? false : raw;
        break;
      case "list":
        out[name] = all.flatMap((v) => v.split(",")).filter((v) => v !== "");
        break;
      case "numberList":
        out[name] = all.flatMap((v) => v.split(",")).filter((v) => v !== "").map((v) => (Number.isFinite(Number(v)) ? Number(v) : v));
        break;
      default:
        out[name] = raw;
    }
  }
  return out;
}

const bodyObject = (body: unknown): Record<string, unknown> => (typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : { __body: body });
/** Path parameters win over body fields of the same name, so a body cannot retarget a route. */
const withBody = (body: unknown, params: Params) => ({ ...bodyObject(body), ...params });

const runListQuery = { status: "list", tag: "string", name: "string", owner: "string", pool: "string", archived: "boolean", sort: "string", order: "string", limit: "number", cursor: "string" } as const;
const rolloutQuery = {
  taskType: "list",
  role: "string",
  purpose: "string",
  stepFrom: "number",
  stepTo: "number",
  valid: "boolean",
  executorStatus: "string",
  rewardMin: "number",
  rewardMax: "number",
  search: "string",
  order: "string",
  limit: "number",
  cursor: "string",
} as const;
const bufferQuery = { taskType: "list", origin: "string", stepFrom: "number", stepTo: "number", search: "string", order: "string", limit: "number", cursor: "string" } as const;
const evalListQuery = { runId: "string", runIds: "list", benchmark: "string", model: "string", status: "list", origin: "string", jobId: "string", limit: "number", cursor: "string" } as const;
const seriesQuery = { runIds: "list", keys: "list", axis: "string", points: "number", from: "number", to: "number" } as const;

export const REST_ROUTES: RestRoute[] = [
  { method: "GET", path: "/api/v1/runs", procedure: "runs.list", summary: "List runs (filters, cursor pagination, sort)", schema: listRunsInput, queryParams: Object.keys(runListQuery), input: ({ query }) => q(query, runListQuery) },
  { method: "POST", path: "/api/v1/runs", procedure: "runs.create", summary: "Create a run from a preset and/or config overrides", schema: createRunInput, input: ({ body }) => body },
  { method: "GET", path: "/api/v1/runs/{id}", procedure: "runs.get", summary: "Get one run", schema: runIdInput, input: ({ params }) => params },
  { method: "PATCH", path: "/api/v1/runs/{id}", procedure: "runs.update", summary: "Rename, retag or annotate a run", schema: updateRunInput, input: ({ body, params }) => withBody(body, params) },
  { method: "DELETE", path: "/api/v1/runs/{id}", procedure: "runs.delete", summary: "Delete a run (refused while it holds a worker)", schema: runIdInput, input: ({ params }) => params },
  { method: "POST", path: "/api/v1/runs/{id}/cancel", procedure: "runs.cancel", summary: "Cancel a run", schema: cancelRunInput, input: ({ body, params }) => withBody(body ?? {}, params) },
  { method: "POST", path: "/api/v1/runs/{id}/resume", procedure: "runs.resume", summary: "Resume a paused, failed or cancelled run", schema: runIdInput, input: ({ body, params }) => withBody(body ?? {}, params) },
  { method: "POST", path: "/api/v1/runs/{id}/fork", procedure: "runs.fork", summary: "Fork a run from a checkpoint", schema: forkRunInput, input: ({ body, params }) => withBody(body, params) },
  { method: "POST", path: "/api/v1/runs/{id}/archive", procedure: "runs.archive", summary: "Archive or unarchive a run", schema: archiveRunInput, input: ({ body, params }) => withBody(body ?? {}, params) },
  { method: "GET", path: "/api/v1/runs/{runId}/events", procedure: "events.list", summary: "A run's events after an id", schema: listEventsInput, queryParams: ["afterId", "kinds", "limit"], input: ({ params, query }) => ({ ...q(query, { afterId: "string", kinds: "list", limit: "number" }), ...params }) },
  { method: "GET", path: "/api/v1/runs/{runId}/checkpoints", procedure: "checkpoints.list", summary: "A run's checkpoints", schema: listCheckpointsInput, queryParams: ["includeDeleted"], input: ({ params, query }) => ({ ...q(query, { includeDeleted: "boolean" }), ...params }) },
  { method: "GET", path: "/api/v1/runs/{runId}/rollouts", procedure: "samples.rollouts", summary: "A run's rollouts with filters and full-text search", schema: rolloutsInput, queryParams: Object.keys(rolloutQuery), input: ({ params, query }) => ({ ...q(query, rolloutQuery), ...params }) },
  { method: "GET", path: "/api/v1/runs/{runId}/buffer", procedure: "samples.buffer", summary: "A run's task buffer entries", schema: bufferInput, queryParams: Object.keys(bufferQuery), input: ({ params, query }) => ({ ...q(query, bufferQuery), ...params }) },
  { method: "GET", path: "/api/v1/metrics/series", procedure: "metrics.series", summary: "Downsampled metric series (min/max/mean buckets)", schema: seriesInput, queryParams: Object.keys(seriesQuery), input: ({ query }) => q(query, seriesQuery) },
  { method: "GET", path: "/api/v1/runs/{runId}/metrics/points", procedure: "metrics.points", summary: "Raw metric points by step (export; page with afterStep)", schema: pointsInput, queryParams: ["keys", "afterStep", "limit"], input: ({ params, query }) => ({ ...q(query, { keys: "list", afterStep: "number", limit: "number" }), ...params }) },
  { method: "GET", path: "/api/v1/metrics/latest", procedure: "metrics.latest", summary: "Latest value of each metric", schema: latestInput, queryParams: ["runIds", "keys"], input: ({ query }) => q(query, { runIds: "list", keys: "list" }) },
  { method: "GET", path: "/api/v1/metrics/keys", procedure: "metrics.keys", summary: "Metric keys the runs logged", schema: keysInput, queryParams: ["runIds"], input: ({ query }) => q(query, { runIds: "list" }) },
  { method: "POST", path: "/api/v1/compare", procedure: "compare.runs", summary: "Config diff, summary table and aligned series of runs", schema: compareInput, input: ({ body }) => body },
  { method: "GET", path: "/api/v1/evals", procedure: "evals.list", summary: "List evaluations (filters: run, benchmark, model, status, origin, job)", schema: listEvalsInput, queryParams: Object.keys(evalListQuery), input: ({ query }) => q(query, evalListQuery) },
  { method: "POST", path: "/api/v1/evals", procedure: "evals.start", summary: "Evaluate a run's checkpoint or a catalogue model on benchmarks (one queued job)", schema: startEvalInput, input: ({ body }) => body },
  { method: "GET", path: "/api/v1/evals/{id}", procedure: "evals.get", summary: "One evaluation with a page of per-problem results", schema: getEvalInput, queryParams: ["limit", "afterIndex", "solved"], input: ({ params, query }) => ({ ...q(query, { limit: "number", afterIndex: "number", solved: "boolean" }), ...params }) },
  { method: "POST", path: "/api/v1/evals/{id}/cancel", procedure: "evals.cancel", summary: "Cancel a queued or running evaluation", schema: cancelEvalInput, input: ({ body, params }) => withBody(body ?? {}, params) },
  { method: "GET", path: "/api/v1/evals/{a}/compare/{b}", procedure: "evals.compare", summary: "Two evaluations of one benchmark problem by problem (solved by A only, B only, both, neither)", schema: compareEvalsInput, queryParams: ["category", "limit", "afterIndex"], input: ({ params, query }) => ({ ...q(query, { category: "string", limit: "number", afterIndex: "number" }), ...params }) },
  { method: "GET", path: "/api/v1/benchmarks", procedure: "evals.benchmarks", summary: "Benchmarks this server can evaluate (built-in and configured) and their data sources", schema: z.undefined(), input: () => undefined },
  { method: "GET", path: "/api/v1/pools", procedure: "pools.list", summary: "Resource pools (admin configuration)", schema: z.undefined(), input: () => undefined },
  { method: "GET", path: "/api/v1/models", procedure: "models.list", summary: "Model catalogue (admin configuration)", schema: z.undefined(), input: () => undefined },
  { method: "GET", path: "/api/v1/workers", procedure: "workers.list", summary: "Workers", schema: listWorkersInput, queryParams: ["runId", "status", "limit"], input: ({ query }) => q(query, { runId: "string", status: "list", limit: "number" }) },
  { method: "GET", path: "/api/v1/tokens", procedure: "tokens.list", summary: "Your API tokens (admins: all=true for everyone's)", schema: listTokensInput, queryParams: ["all", "includeRevoked"], input: ({ query }) => q(query, { all: "boolean", includeRevoked: "boolean" }) },
  { method: "POST", path: "/api/v1/tokens", procedure: "tokens.create", summary: "Create an API token (the secret is in this response only)", schema: createTokenInput, input: ({ body }) => body },
  { method: "DELETE", path: "/api/v1/tokens/{id}", procedure: "tokens.revoke", summary: "Revoke an API token", schema: revokeTokenInput, input: ({ params }) => params },
  { method: "GET", path: "/api/v1/whoami", procedure: "tokens.whoami", summary: "The caller's user and token", schema: z.undefined(), input: () => undefined },
];

export interface RouteMatch {
  route: RestRoute;
  params: Params;
}

export function matchRoute(method: string, pathname: string): RouteMatch | "method-not-allowed" | undefined {
  let pathMatched = false;
  for (const route of REST_ROUTES) {
    const names: string[] = [];
    const re = new RegExp(`^${route.path.replace(/\{(\w+)\}/g, (_, n: string) => (names.push(n), "([^/]+)"))}$`);
    const m = re.exec(pathname);
    if (!m) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    let params: Params;
    try {
      params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
    } catch {
      params = Object.fromEntries(names.map((n, i) => [n, m[i + 1]!]));
    }
    return { route, params };
  }
  return pathMatched ? "method-not-allowed" : undefined;
}

/** OpenAPI 3.1 (its schema dialect is JSON Schema 2020-12, which zod emits). */
export function openApiDocument(serverUrl?: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of REST_ROUTES) {
    const jsonSchema = route.schema instanceof z.ZodUndefined ? undefined : (z.toJSONSchema(route.schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>);
    const props = (jsonSchema?.properties ?? {}) as Record<string, unknown>;
    const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const parameters = [
      ...pathParams.map((name) => ({ name, in: "path", required: true, schema: props[name] ?? { type: "string" } })),
      ...(route.queryParams ?? []).map((name) => {
        const s = props[name] as Record<string, unknown> | undefined;
        const list = s?.type === "array";
        return { name, in: "query", required: false, schema: list ? { type: "string", description: "comma-separated list" } : (s ?? { type: "string" }), ...(list ? { explode: false } : {}) };
      }),
    ];
    let requestBody: unknown;
    if ((route.method === "POST" || route.method === "PATCH") && jsonSchema) {
      const { $schema: _drop, ...schema } = jsonSchema;
      const bodyProps = Object.fromEntries(Object.entries((schema.properties ?? {}) as Record<string, unknown>).filter(([k]) => !pathParams.includes(k)));
      const required = ((schema.required ?? []) as string[]).filter((k) => !pathParams.includes(k));
      requestBody = { required: required.length > 0, content: { "application/json": { schema: { ...schema, properties: bodyProps, required } } } };
    }
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: route.procedure.replace(".", "_"),
      summary: route.summary,
      "x-trpc-procedure": route.procedure,
      security: [{ bearer: [] }],
      parameters,
      ...(requestBody ? { requestBody } : {}),
      responses: {
        "200": { description: "success", content: { "application/json": { schema: { type: "object" } } } },
        "400": { $ref: "#/components/responses/Error" },
        "401": { $ref: "#/components/responses/Error" },
        "403": { $ref: "#/components/responses/Error" },
        "404": { $ref: "#/components/responses/Error" },
        "409": { $ref: "#/components/responses/Error" },
        "429": { $ref: "#/components/responses/Error" },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "AZR Platform API", version: "1", description: "REST/JSON surface of the AZR Platform control plane. Every route calls the tRPC procedure named in x-trpc-procedure." },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API token (azr_pat_…)" } },
      responses: {
        Error: {
          description: "error",
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["error"],
                properties: {
                  error: {
                    type: "object",
                    required: ["code", "message"],
                    properties: {
                      code: { type: "string" },
                      message: { type: "string" },
                      issues: { type: "array", items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } } },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
    paths,
  };
}
