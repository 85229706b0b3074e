import path from "node:path";
import type { PoolConfig } from "../admin-config.ts";
import { LauncherError, type LauncherKind, type WorkerSpec } from "./types.ts";

// Checks shared by every launcher. Specs are built by the scheduler, not by users, but a wrong
// one must fail here with a clear message rather than half-start a worker somewhere.

/** Ids end up in container names, label values and Kubernetes object names: keep them to
 * characters all three accept. */
export const idPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** `name@sha256:<64 hex>`, as the admin config requires. */
const pinnedImage = /^([^\s@]+)@sha256:([a-f0-9]{64})$/;

export type PoolOf<K extends LauncherKind> = Extract<PoolConfig, { launcher: K }>;

export function checkSpec<K extends LauncherKind>(kind: K, spec: WorkerSpec): PoolOf<K> {
  const fail = (message: string): never => {
    throw new LauncherError(kind, `invalid worker spec: ${message}`);
  };
  if (spec.pool.launcher !== kind) fail(`pool ${spec.pool.name} is a ${spec.pool.launcher} pool, not ${kind}`);
  if (!idPattern.test(spec.runId)) fail(`runId ${JSON.stringify(spec.runId)} must match ${idPattern}`);
  if (!idPattern.test(spec.workerId)) fail(`workerId ${JSON.stringify(spec.workerId)} must match ${idPattern}`);
  if (!Number.isInteger(spec.attempt) || spec.attempt < 1) fail(`attempt must be an integer >= 1 (got ${spec.attempt})`);
  if (!spec.token) fail("token is empty");
  if (!/^wss?:\/\//.test(spec.hubUrl)) fail(`hubUrl ${JSON.stringify(spec.hubUrl)} must be a ws:// or wss:// URL`);
  if (!Number.isInteger(spec.gpus) || spec.gpus < 0) fail(`gpus must be an integer >= 0 (got ${spec.gpus})`);
  if (spec.resources.cpus !== undefined && !(spec.resources.cpus > 0)) fail("resources.cpus must be > 0");
  if (spec.resources.memoryGb !== undefined && !(spec.resources.memoryGb > 0)) fail("resources.memoryGb must be > 0");
  if (!path.isAbsolute(spec.dataRoot)) fail(`dataRoot ${JSON.stringify(spec.dataRoot)} must be an absolute path`);
  const modelPath = spec.model.path;
  if (modelPath !== undefined && (path.isAbsolute(modelPath) || path.normalize(modelPath).split(path.sep).includes("..")))
    fail(`model.path ${JSON.stringify(modelPath)} must be relative to the data root and stay inside it`);
  if (spec.graceSeconds !== undefined && !(spec.graceSeconds > 0)) fail("graceSeconds must be > 0");
  return spec.pool as PoolOf<K>;
}

/** The image to run: the spec's choice if the pool allows it, else the pool's first. Only images
 * pinned by digest are accepted, whatever the pool says. */
export function chooseImage(kind: LauncherKind, pool: { name: string; images: string[] }, wanted: string | undefined): {
  ref: string;
  repository: string;
  digest: string;
} {
  const ref = wanted ?? pool.images[0];
  if (!ref) throw new LauncherError(kind, `pool ${pool.name} allows no image`);
  if (!pool.images.includes(ref)) throw new LauncherError(kind, `image ${ref} is not one of pool ${pool.name}'s allowed images`);
  const m = pinnedImage.exec(ref);
  if (!m) throw new LauncherError(kind, `image ${ref} is not pinned by digest (name@sha256:<64 hex>)`);
  return { ref, repository: m[1]!, digest: `sha256:${m[2]!}` };
}

/** The worker's settings, passed as environment variables the worker reads (see
 * apps/worker/azr_worker/__main__.py), so the image's entrypoint needs no arguments. */
export function workerEnvironment(spec: WorkerSpec, dataRoot: string): Record<string, string> {
  const env: Record<string, string> = {
    AZR_WORKER_TOKEN: spec.token,
    AZR_WORKER_URL: spec.hubUrl,
    AZR_WORKER_ID: spec.workerId,
    AZR_WORKER_BACKEND: spec.backend,
    AZR_WORKER_DATA_ROOT: dataRoot,
    AZR_WORKER_GRACE: String(spec.graceSeconds ?? 30),
  };
  // torch sizes its thread pool from the host's cores, not the container's CPU limit.
  if (spec.resources.cpus) env.OMP_NUM_THREADS = String(Math.max(1, Math.floor(spec.resources.cpus)));
  return env;
}
