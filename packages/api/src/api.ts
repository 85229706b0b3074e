import type { Database } from "@azr/db";
import { BenchmarkCatalog, defaultAdminConfig, type AdminConfig } from "@azr/orchestrator";
import { AuthService, type AuthOptions } from "./auth/auth-service.ts";
import { DatabaseEvalControl, type EvalControl } from "./eval-control.ts";
import { createHttpHandler, type HttpOptions } from "./http.ts";
import { RunNotifier } from "./notifier.ts";
import { appRouter } from "./root.ts";
import { DatabaseRunControl, type RunControl } from "./run-control.ts";
import { createCallerFactory, type ApiContext, type ApiServices } from "./trpc.ts";
import { createWsHandler } from "./ws.ts";

export interface CreateApiOptions extends HttpOptions {
  db: Database;
  admin?: AdminConfig;
  /** The orchestrator's implementation; default: database transitions only. */
  runControl?: RunControl;
  /** The orchestrator's implementation; default: database transitions only. */
  evalControl?: EvalControl;
  auth?: AuthOptions;
  /** An AuthService the caller already holds (the server shares one with the orchestrator's
   * worker credentials); `auth` options are then ignored. */
  authService?: AuthService;
  notifier?: RunNotifier;
  /** Default 15 s. */
  subscriptionAuthRecheckMs?: number;
}

/** Everything the server mounts: HTTP handler, WebSocket upgrade handler, and the services. */
export function createApi(options: CreateApiOptions) {
  const admin = options.admin ?? defaultAdminConfig;
  const services: ApiServices = {
    db: options.db,
    auth: options.authService ?? new AuthService(options.db, options.auth),
    admin,
    runControl: options.runControl ?? new DatabaseRunControl(options.db.prisma),
    evalControl: options.evalControl ?? new DatabaseEvalControl(options.db.prisma),
    benchmarks: new BenchmarkCatalog(admin.benchmarks),
    notifier: options.notifier ?? new RunNotifier(),
    subscriptionAuthRecheckMs: options.subscriptionAuthRecheckMs ?? 15_000,
  };
  const http = createHttpHandler(services, options);
  const ws = createWsHandler(services);
  return {
    services,
    router: appRouter,
    handleHttp: http,
    handleUpgrade: ws.handleUpgrade,
    /** In-process calls with a given context (tests, server-side rendering). */
    caller: (ctx: Omit<ApiContext, "services">) => createCallerFactory(appRouter)({ ...ctx, services }),
    terminateLiveConnections: ws.terminateAll,
    close: ws.close,
  };
}
export type Api = ReturnType<typeof createApi>;
