export { WorkerClient, WorkerError } from "./client.ts";
export type { RequestOptions, WorkerClientErrorCode, WorkerClientEvents, WorkerClientOptions, WorkerParams } from "./client.ts";
export { WorkerHub, tokenVerifier } from "./hub.ts";
export type { WorkerHubEvents, WorkerHubOptions } from "./hub.ts";
export { WORKER_APP_DIR, findPython, spawnLocalWorker } from "./spawn.ts";
export type { LocalWorker, SpawnWorkerOptions } from "./spawn.ts";
export { startLocalWorker } from "./local.ts";
export type { StartedLocalWorker, StartLocalWorkerOptions } from "./local.ts";
