import { randomBytes } from "node:crypto";
import { chownSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { Run } from "@azr/db";
import type { RunConfig } from "@azr/azr";
import type { ModelEntry, PoolConfig } from "./admin-config.ts";
import { DockerLauncher, startLaunchedWorker, WorkerExitedError, type Launcher, type WorkerCredentials } from "./launchers/index.ts";
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

export function launchedWorkerFactory(o: WorkerSessionOptions): WorkerFactory {
  return async (run: Run, config: RunConfig): Promise<WorkerSession> => {
    const entry = o.models[run.modelName];
    if (!entry) throw new Error(`model "${run.modelName}" is not in the model catalogue (known: ${Object.keys(o.models).join(", ")})`);
    const modelPath = entry.source.kind === "directory" ? relativeToDataRoot(o.dataRoot, path.resolve(o.dataRoot, entry.source.path)) : undefined;
    const started = await startLaunchedWorker({
      launcher: o.launcher,
      hubHost: await hubHostFor(o),
      connectTimeoutMs: o.connectTimeoutMs,
      credentials: o.credentials,
      spec: {
        runId: run.id,
        attempt: run.attempt,
        workerId: `run-${run.id.slice(0, 8)}-a${run.attempt}-${randomBytes(3).toString("hex")}`,
        backend: entry.backend,
        model: { name: run.modelName, path: modelPath },
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
      policy: new WorkerPolicy(client, config),
      died,
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
      async load(checkpointModelDir) {
        const isTiny = entry.backend === "tiny";
        await client.load(
          {
            model: isTiny ? "tiny" : (modelPath ?? (entry.source.kind === "hub" ? entry.source.id : run.modelName)),
            tiny: isTiny ? entry.tiny : undefined,
            seed: config.seed,
            checkpoint: isTiny ? modelPath : undefined,
            trustRemoteCode: entry.trustRemoteCode,
            optimizer: { lr: config.optim.lr, weightDecay: config.optim.weightDecay },
          },
          { timeoutMs: 1_800_000 },
        );
        if (checkpointModelDir) await client.request("restore", { path: relativeToDataRoot(o.dataRoot, checkpointModelDir) }, { timeoutMs: 1_800_000 });
      },
      close: () => started.close(),
    };
  };
}
