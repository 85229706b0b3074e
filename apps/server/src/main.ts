import { AuthService, RunNotifier } from "@azr/api";
import { DatabaseSetupError, openDatabase } from "@azr/db";
import { loadAdminConfig, OrchestratorEvalControl, OrchestratorRunControl, startRuntime, type AdminConfig, type Runtime } from "@azr/orchestrator";
import { dashboardBuilt, startDashboard, type Dashboard } from "./dashboard.ts";
import { DEMO_TAG, formatProgress, launchDemoRun, prepareDemoModel } from "./demo.ts";
import { parseServerEnv } from "./env.ts";
import { createLogger } from "./log.ts";
import { parseServerArgs, serverHelp } from "./options.ts";
import { renderPrometheus } from "./prometheus.ts";
import { startControlPlane } from "./server.ts";

let demoRunId: string | undefined;

async function main(): Promise<number> {
  let command;
  try {
    command = parseServerArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n\n${serverHelp}`);
    return 2;
  }
  if (command.help) {
    console.log(serverHelp);
    return 0;
  }
  const env = parseServerEnv();
  const log = createLogger(env.logFormat);
  // The admin file is read before the database opens: a broken file stops the server early.
  const admin = loadAdminConfig(env.adminConfigFile);
  let adminConfig: AdminConfig = admin.config;
  if (command.options.demo) adminConfig = await prepareDemoModel(adminConfig, env.dataDir, (line) => log("demo", line));
  const db = await openDatabase({ log: (line) => log("db", line) });
  log("db", `${db.describe()} ready`);
  let plane;
  let runtime: Runtime | undefined;
  // One credential owner for API tokens, sessions and the worker tokens of run attempts.
  const auth = new AuthService(db);
  // Live subscriptions wake on the orchestrator's reports (evaluation progress) at once.
  const notifier = new RunNotifier();
  const evalStatus = new Map<string, string>();
  try {
    runtime = await startRuntime({
      db,
      workerCredentials: auth.workerCredentials(),
      dataDir: env.dataDir,
      admin: adminConfig,
      launcherSettings: { installationId: env.installationId },
      executorBackend: env.executor,
      log: (line) => log("orchestrator", line),
      onStep: (p) => {
        if (demoRunId === p.runId) log("demo", formatProgress(p), { runId: p.runId, step: p.step, metrics: p.metrics });
        else log(`run ${p.runId.slice(0, 8)}`, `step ${p.step}/${p.totalSteps} done in ${((p.metrics["time/total_ms"] ?? 0) / 1000).toFixed(1)}s`, { runId: p.runId, step: p.step });
      },
      onEvalProgress: (p) => {
        notifier.notify(p.evalId);
        if (p.runId) notifier.notify(p.runId);
        if (evalStatus.get(p.evalId) === p.status) return;
        evalStatus.set(p.evalId, p.status);
        if (p.status === "completed" || p.status === "failed" || p.status === "cancelled") evalStatus.delete(p.evalId);
        log(`eval ${p.evalId.slice(0, 8)}`, `${p.benchmark} ${p.status}${p.total ? ` (${p.done}/${p.total} problems)` : ""}`, { evalId: p.evalId, jobId: p.jobId, runId: p.runId });
      },
      onSeeding: ({ runId, round: r }) =>
        log(demoRunId === runId ? "demo" : `run ${runId.slice(0, 8)}`, `seeding ${r.part} round ${r.round}/${r.maxRounds}: ${r.valid}/${r.proposed} valid, ${r.size}/${r.target} seeds`, { runId, seeding: r }),
    });
    log("orchestrator", `${runtime.queue.kind} queue, ${runtime.executor.size} sandboxed executor runners (${runtime.executor.backend.name}), checkpoints in ${runtime.checkpoints.options.root}`);
    plane = await startControlPlane(db, command.options, {
      admin: adminConfig,
      runControl: new OrchestratorRunControl(db.prisma, runtime.orchestrator),
      evalControl: new OrchestratorEvalControl(db.prisma, runtime.orchestrator),
      notifier,
      prometheus: () => renderPrometheus(db, runtime!),
      secureCookies: env.secureCookies,
      auth,
      log: (line) => log("api", line),
    });
    const first = await plane.api.services.auth.ensureAdminToken(env.adminToken);
    if (first?.created && !env.adminToken) {
      // Shown once: only its SHA-256 is stored.
      console.log(`\nFirst start: created an admin API token. It is shown only now; store it:\n\n  ${first.token}\n\nSign the CLI in with: azr login --url <server url> --token <token>\n`);
    } else if (first?.created) {
      log("auth", "registered AZR_ADMIN_TOKEN as the admin API token");
    }
  } catch (e) {
    await runtime?.close().catch(() => {});
    await db.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === "EADDRINUSE") throw new Error(`port ${command.options.port} on ${command.options.host} is in use; pick another with --port`);
    throw e;
  }
  log("config", `admin configuration: ${admin.source}`);
  // Listening before the line below: whoever reads it (a test, a supervisor) may stop the server
  // at once, and a signal that beat the handlers would kill it without a clean shutdown.
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  log("", `AZR control plane listening on ${plane.url} (health: ${plane.url}/healthz, metrics: ${plane.url}/metrics, API: ${plane.url}/api/v1, OpenAPI: ${plane.url}/api/openapi.json); Ctrl-C stops it`);
  let dashboard: Dashboard | undefined;
  if (command.options.web) {
    if (!dashboardBuilt()) {
      log("web", "the dashboard is not built (npm run build -w @azr/web; npm start does it): serving the API only");
    } else {
      dashboard = startDashboard(plane.url, command.options.host, command.options.webPort, (line) => log("web", line));
      const url = await dashboard.url.catch((e: unknown) => {
        log("web", `the dashboard did not start: ${(e as Error).message}`);
        return undefined;
      });
      if (url) log("web", `dashboard on ${url}: sign in with the admin token (printed at the first start, or AZR_ADMIN_TOKEN)`);
    }
  }
  if (command.options.demo) {
    const demo = await launchDemoRun(db, runtime.orchestrator, adminConfig, command.options.demoSteps);
    demoRunId = demo.runId;
    log(
      "demo",
      `${demo.created ? "queued a new" : "continuing the unfinished"} ${DEMO_TAG} run ${demo.runId} (tiny-cpu preset, demo policy, bwrap executor); ` +
        `watch it with: npx azr logs -f ${demo.runId}   (start with --no-demo to skip it)`,
      { runId: demo.runId },
    );
  }
  await stopRequested;
  log("", "shutting down: active runs finish their step, checkpoint and pause (they continue at the next start)");
  await dashboard?.stop();
  await plane.close();
  await runtime.close();
  await db.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`error: ${e instanceof DatabaseSetupError || e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
