export { ExecutorPool, ExecutorClosedError, ExecutorQueueFullError, ExecutorRequestError } from "./pool.ts";
export type { PoolOptions, PoolEvent } from "./pool.ts";
export { BwrapBackend, DEFAULT_PYTHON } from "./bwrap.ts";
export type { BwrapOptions } from "./bwrap.ts";
export { SandboxUnavailableError } from "./backend.ts";
export type { SandboxBackend, BackendName } from "./backend.ts";
export type { ExecutorMetrics } from "./metrics.ts";
export { RUNNER_PATH } from "./runner-source.ts";
export type * from "@azr/protocol";
