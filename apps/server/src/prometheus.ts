import type { Database } from "@azr/db";
import { RUN_STATUSES, type Runtime } from "@azr/orchestrator";

// Prometheus text exposition (format 0.0.4) for /metrics: runs by state, queue depth per pool,
// recent step times, executor and worker health.

type Sample = { labels?: Record<string, string>; value: number };

function family(name: string, type: "gauge" | "counter", help: string, samples: Sample[]): string {
  const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  const lines = samples.map(({ labels, value }) => {
    const l = labels && Object.keys(labels).length ? `{${Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`).join(",")}}` : "";
    return `${name}${l} ${Number.isFinite(value) ? value : 0}`;
  });
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${lines.join("\n")}`;
}

export async function renderPrometheus(db: Database, runtime: Runtime): Promise<string> {
  const byStatus = await db.prisma.run.groupBy({ by: ["status"], _count: true });
  const counts = new Map(byStatus.map((r) => [r.status, r._count]));
  const recent = await db.sql.query<{ duration_ms: number | null; n: number }>(
    `SELECT avg("durationMs")::float8 AS duration_ms, count(*)::int AS n FROM "Step" WHERE "startedAt" > now() - interval '10 minutes'`,
  );
  const depth = await Promise.all(runtime.admin.pools.map(async (p) => ({ pool: p.name, depth: await runtime.orchestrator.queueDepth(p.name) })));
  const ex = runtime.executor.metrics();
  const families = [
    family("azr_runs", "gauge", "Runs by status.", RUN_STATUSES.map((s) => ({ labels: { status: s }, value: counts.get(s) ?? 0 }))),
    family("azr_queue_depth", "gauge", "Runs waiting for capacity, per pool.", depth.map((d) => ({ labels: { pool: d.pool }, value: d.depth }))),
    family("azr_active_attempts", "gauge", "Run attempts holding a worker in this server.", [{ value: runtime.orchestrator.activeRuns().length }]),
    family("azr_steps_recent", "gauge", "Steps finished in the last 10 minutes.", [{ value: recent[0]?.n ?? 0 }]),
    family("azr_step_duration_seconds_recent", "gauge", "Mean step duration over the last 10 minutes.", [{ value: (recent[0]?.duration_ms ?? 0) / 1000 }]),
    family("azr_executor_runners", "gauge", "Executor sandbox runners.", [
      { labels: { state: "configured" }, value: ex.runners.configured },
      { labels: { state: "alive" }, value: ex.runners.alive },
      { labels: { state: "busy" }, value: ex.runners.busy },
    ]),
    family("azr_executor_queued_jobs", "gauge", "Executor jobs waiting for a runner.", [{ value: ex.queued }]),
    family("azr_executor_jobs_total", "counter", "Executor jobs completed, by status.", Object.entries(ex.statuses).map(([status, n]) => ({ labels: { status }, value: n ?? 0 }))),
    family("azr_executor_jobs_per_second", "gauge", "Executor throughput over the recent window.", [{ value: ex.jobsPerSecond }]),
    family("azr_executor_latency_ms", "gauge", "Executor job latency percentiles (queueing included).", [
      { labels: { quantile: "0.5" }, value: ex.latencyMs.p50 },
      { labels: { quantile: "0.99" }, value: ex.latencyMs.p99 },
    ]),
    family("azr_executor_runner_crashes_total", "counter", "Executor runners that died unexpectedly.", [{ value: ex.crashes }]),
    family("azr_executor_timeouts_total", "counter", "Executor jobs that hit their time limit.", [{ value: ex.timeouts }]),
  ];
  return `${families.join("\n")}\n`;
}
