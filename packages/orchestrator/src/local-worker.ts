import path from "node:path";
import type { Run } from "@azr/db";
import type { RunConfig } from "@azr/azr";
import { startLocalWorker } from "@azr/worker-client";
import type { ModelEntry } from "./admin-config.ts";
import { WorkerPolicy } from "./policy.ts";
import { WorkerLostError, type WorkerFactory, type WorkerSession } from "./run-attempt.ts";

// The embedded default's worker: the Python worker as a child process of the server, with a
// minimal environment (no database URL, no admin secrets), confined to the data directory.

export interface LocalWorkerOptions {
  /** The worker's data root: models and checkpoints must live under it. */
  dataRoot: string;
  /** The model catalogue of the admin configuration. */
  models: Record<string, ModelEntry>;
  threads?: number;
  onLog?: (runId: string, line: string) => void;
}

export function relativeToDataRoot(dataRoot: string, absolute: string): string {
  const rel = path.relative(dataRoot, absolute);
  if (!rel || rel.startsWith("..") || path.isAbsolute(rel)) {
    throw new Error(`${absolute} is outside the worker's data root ${dataRoot}; put models and checkpoints under it`);
  }
  return rel;
}

export function localWorkerFactory(opts: LocalWorkerOptions): WorkerFactory {
  return async (run: Run, config: RunConfig): Promise<WorkerSession> => {
    const entry = opts.models[run.modelName];
    if (!entry) throw new Error(`model "${run.modelName}" is not in the model catalogue (known: ${Object.keys(opts.models).join(", ")})`);
    if (entry.backend !== "tiny") throw new Error(`the local launcher runs the tiny backend only; model "${run.modelName}" needs ${entry.backend} (use a docker or kubernetes pool)`);
    const worker = await startLocalWorker({
      dataRoot: opts.dataRoot,
      backend: "tiny",
      threads: opts.threads,
      onLog: (line) => opts.onLog?.(run.id, line),
    });
    const client = worker.client;
    const died = worker.process.exited.then(({ code, signal }) => {
      throw new WorkerLostError(`worker exited (${code ?? signal}): ${worker.process.logTail().slice(-3).join(" | ")}`);
    });
    died.catch(() => {});
    return {
      policy: new WorkerPolicy(client, config),
      died,
      describe: () => ({ backend: client.hello.backend, versions: client.hello.versions, devices: client.hello.devices, host: "local" }),
      saver: {
        save: async (dir) => ({ bytes: (await client.request("save", { path: relativeToDataRoot(opts.dataRoot, dir) }, { timeoutMs: 600_000 })).bytes }),
      },
      async load(checkpointModelDir) {
        const initial = entry.source.kind === "directory" ? relativeToDataRoot(opts.dataRoot, path.resolve(opts.dataRoot, entry.source.path)) : undefined;
        await client.load(
          {
            model: "tiny",
            tiny: entry.tiny,
            seed: config.seed,
            checkpoint: initial,
            optimizer: { lr: config.optim.lr, weightDecay: config.optim.weightDecay },
          },
          { timeoutMs: 600_000 },
        );
        if (checkpointModelDir) await client.request("restore", { path: relativeToDataRoot(opts.dataRoot, checkpointModelDir) }, { timeoutMs: 600_000 });
      },
      close: () => worker.close(),
    };
  };
}
