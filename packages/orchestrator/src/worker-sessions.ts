import { randomBytes } from "node:crypto";
import { chownSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { Run } from "@azr/db";
import { defaultRunConfig, type RunConfig } from "@azr/azr";
import type { ModelEntry, PoolConfig } from "./admin-config.ts";
import type { EvalWorkerFactory, EvalWorkerRequest, EvalWorkerSession } from "./eval-jobs.ts";
import { DockerLauncher, ephemeralWorkerCredentials, startLaunchedWorker, WorkerExitedError, type Launcher, type WorkerCredentials } from "./launchers/index.ts";
import { WorkerPolicy } from "./policy.ts";
import { WorkerLostError, type WorkerFactory, type WorkerSession } from "./run-attempt.ts";

// A run attempt's worker, whatever launches it (a local child process, a container, a Kubernetes
// Job): mint a token for the attempt, launch through the pool's launcher, wait for the worker on
// the attempt's own hub, and expose it as the policy the step loop drives.

export interface WorkerSessionOptions {
  launcher: Launcher;
  pool: PoolConfig;
  /** The workers' data root on this machine: models and checkpoints live under it. */
  dataRoot: string;
  /** The model catalogue of the admin configuration. */
  models: Record<string, ModelEntry>;
  /** Where the attempt's hub listens so the worker can reach it (default 127.0.0.1; for Docker
   * the launcher's network gateway). */
  hubHost?: string;
  connectTimeoutMs?: number;
  /** Who mints each attempt's worker token (default: an in-memory secret per attempt). */
  credentials?: WorkerCredentials;
}

/** `absolute` as a path under `dataRoot` (the form the worker protocol takes), or an error. */
export function relativeToDataRoot(dataRoot: string, absolute: string): string {
  const rel = path.relative(dataRoot, absolute);
  if (!rel || rel.startsWith("..") || path.isAbsolute(rel)) {
    throw new Error(`${absolute} is outside the worker's data root ${dataRoot}; put models and checkpoints under it`);
  }
  return rel;
}

/** A containerised worker runs as its own uid: a directory it writes into (a checkpoint's temp
 * dir) is handed to that uid when this server runs as root. */
function handDirToWorker(launcher: Launcher, dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (launcher instanceof DockerLauncher && process.getuid?.() === 0) {
    const { uid, gid } = launcher.workerIds;
    chownSync(dir, uid, gid);
  }
}

async function hubHostFor(o: WorkerSessionOptions): Promise<string> {
  if (o.hubHost) return o.hubHost;
  if (o.launcher instanceof DockerLauncher) return (await o.launcher.ensureNetwork()).gateway ?? "127.0.0.1";
  return "127.0.0.1";
}

/** A worker launched through the pool's launcher serving one catalogue model, not loaded yet:
 * shared by run attempts and eval jobs. */
async function launchModelWorker(
  o: WorkerSessionOptions,
  w: { id: string; attempt: number; workerId: string; modelName: string; credentials: WorkerCredentials | undefined },
) {
  const entry = o.models[w.modelName];
  if (!entry) throw new Error(`model "${w.modelName}" is not in the model catalogue (known: ${Object.keys(o.models).join(", ")})`);
  const modelPath = entry.source.kind === "directory" ? relativeToDataRoot(o.dataRoot, path.resolve(o.dataRoot, entry.source.path)) : undefined;
  const started = await startLaunchedWorker({
    launcher: o.launcher,
    hubHost: await hubHostFor(o),
    connectTimeoutMs: o.connectTimeoutMs,
    credentials: w.credentials,
    spec: {
      runId: w.id,
      attempt: w.attempt,
      workerId: w.workerId,
      backend: entry.backend,
      model: { name: w.modelName, path: modelPath },
      dataRoot: o.dataRoot,
      gpus: o.pool.gpusPerWorker,
      resources: o.pool.resources,
      pool: o.pool,
    },
  });
  const { client } = started;
  const died = started.died.catch((e: unknown) => {
    throw new WorkerLostError(e instanceof WorkerExitedError ? e.message.split("\n")[0]! : String(e));
  });
  died.catch(() => {});
  return {
    started,
    client,
    died,
    /** Loads the model (seed and optimizer for training), then a checkpoint's weights if given. */
    async load(seed: number, optimizer: { lr: number; weightDecay: number } | undefined, checkpointModelDir: string | undefined) {
      const isTiny = entry.backend === "tiny";
      await client.load(
        {
          model: isTiny ? "tiny" : (modelPath ?? (entry.source.kind === "hub" ? entry.source.id : w.modelName)),
          tiny: isTiny ? entry.tiny : undefined,
          seed,
          checkpoint: isTiny ? modelPath : undefined,
          trustRemoteCode: entry.trustRemoteCode,
          ...(optimizer ? { optimizer } : {}),
        },
        { timeoutMs: 1_800_000 },
      );
      if (checkpointModelDir) await client.request("restore", { path: relativeToDataRoot(o.dataRoot, checkpointModelDir) }, { timeoutMs: 1_800_000 });
    },
  };
}

export function launchedWorkerFactory(o: WorkerSessionOptions): WorkerFactory {
  return async (run: Run, config: RunConfig): Promise<WorkerSession> => {
    const w = await launchModelWorker(o, {
      id: run.id,
      attempt: run.attempt,
      workerId: `run-${run.id.slice(0, 8)}-a${run.attempt}-${randomBytes(3).toString("hex")}`,
      modelName: run.modelName,
      credentials: o.credentials,
    });
    const { client, started } = w;
    return {
      policy: new WorkerPolicy(client, config),
      died: w.died,
      describe: () => ({
        backend: client.hello.backend,
        versions: client.hello.versions,
        devices: client.hello.devices,
        image: started.launched.image,
        host: `${o.pool.launcher}:${started.launched.id}`,
      }),
      saver: {
        save: async (dir) => {
          handDirToWorker(o.launcher, path.dirname(dir));
          return { bytes: (await client.request("save", { path: relativeToDataRoot(o.dataRoot, dir) }, { timeoutMs: 600_000 })).bytes };
        },
      },
      load: (checkpointModelDir) => w.load(config.seed, { lr: config.optim.lr, weightDecay: config.optim.weightDecay }, checkpointModelDir),
      close: () => started.close(),
    };
  };
}

/** Eval jobs' workers: launched like a run's (same pool, launcher and catalogue), named after the
 * job, loaded with the catalogue model and then the checkpoint's weights when one is evaluated.
 * Their token is an in-memory secret of the job's own hub: an eval job is no run attempt for the
 * API's worker-token records. */
export function launchedEvalWorkerFactory(o: WorkerSessionOptions): EvalWorkerFactory {
  return async (request: EvalWorkerRequest): Promise<EvalWorkerSession> => {
    const id = `eval-${request.jobId}`;
    const w = await launchModelWorker(o, {
      id,
      attempt: request.attempt,
      workerId: `eval-${request.jobId.slice(0, 8)}-a${request.attempt}-${randomBytes(3).toString("hex")}`,
      modelName: request.modelName,
      credentials: ephemeralWorkerCredentials,
    });
    try {
      await Promise.race([w.load(0, undefined, request.checkpointModelDir), w.died]);
    } catch (e) {
      await w.started.close().catch(() => {});
      throw e;
    }
    // Every evaluation batch carries its own decoding; the run-config defaults are never used.
    return { policy: new WorkerPolicy(w.client, defaultRunConfig()), died: w.died, close: () => w.started.close() };
  };
}
