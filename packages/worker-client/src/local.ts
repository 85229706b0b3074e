import { randomBytes } from "node:crypto";
import type { WorkerClient } from "./client.ts";
import { WorkerHub, tokenVerifier } from "./hub.ts";
import { spawnLocalWorker, type LocalWorker, type SpawnWorkerOptions } from "./spawn.ts";

export interface StartLocalWorkerOptions extends Omit<SpawnWorkerOptions, "url" | "token"> {
  /** An existing hub; by default a private one is started on 127.0.0.1. */
  hub?: WorkerHub;
  /** Only with `hub`: the token that hub accepts. */
  token?: string;
  connectTimeoutMs?: number;
}

export interface StartedLocalWorker {
  hub: WorkerHub;
  client: WorkerClient;
  process: LocalWorker;
  /** Asks the worker to shut down, waits for it, closes a private hub. */
  close(): Promise<void>;
}

/** Embedded mode in one call: a hub (unless given), a local worker process, its connected client. */
export async function startLocalWorker(opts: StartLocalWorkerOptions): Promise<StartedLocalWorker> {
  const token = opts.token ?? randomBytes(24).toString("hex");
  const ownHub = !opts.hub;
  const hub = opts.hub ?? (await WorkerHub.listen({ verifyToken: tokenVerifier(token) }));
  const proc = spawnLocalWorker({ ...opts, url: hub.url, token });
  let client: WorkerClient;
  try {
    client = await Promise.race([
      hub.waitForWorker(proc.workerId, opts.connectTimeoutMs ?? 60_000),
      proc.exited.then(({ code, signal }) => {
        throw new Error(`worker exited (${code ?? signal}) before connecting:\n${proc.logTail().join("\n")}`);
      }),
    ]);
  } catch (e) {
    await proc.stop();
    if (ownHub) await hub.close();
    throw e;
  }
  return {
    hub,
    client,
    process: proc,
    async close() {
      if (proc.child.exitCode === null && client.connected) {
        await client.shutdown({ timeoutMs: 10_000 }).catch(() => undefined);
      }
      const timer = setTimeout(() => void proc.stop(), 10_000);
      await proc.exited;
      clearTimeout(timer);
      hub.remove(proc.workerId);
      if (ownHub) await hub.close();
    },
  };
}
