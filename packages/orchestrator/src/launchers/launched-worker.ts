import { WorkerHub, type WorkerClient, type WorkerHubOptions } from "@azr/worker-client";
import type { LaunchedWorker, Launcher, WorkerObservation, WorkerSpec } from "./types.ts";
import { ephemeralWorkerCredentials, type WorkerCredentials } from "./worker-credentials.ts";

// What startLocalWorker (@azr/worker-client) does for a child process, for any launcher: mint a
// token for this attempt, open a hub that accepts only that token, launch the worker, wait for it
// to connect, and watch it. Closing it stops the worker, revokes the token and closes the hub: the
// token expires with the attempt.

export interface StartLaunchedWorkerOptions {
  launcher: Launcher;
  /** The spec without what is made here (hub URL, token). */
  spec: Omit<WorkerSpec, "hubUrl" | "token">;
  /** Where the attempt's hub listens: 127.0.0.1 for local workers, the docker network's gateway
   * (DockerLauncher.ensureNetwork) for containers, an address the pods can reach for Kubernetes. */
  hubHost: string;
  hubPort?: number;
  /** The URL the worker is given, when it differs from the bound one (a Kubernetes Service, a
   * TLS proxy in front of the hub). */
  advertisedUrl?: (boundUrl: string) => string;
  /** Passed to the hub's clients (timeouts, chunk size). */
  client?: Omit<WorkerHubOptions, "verifyToken" | "host" | "port">;
  /** How long the worker may take to connect (default 300 s: a container with the vfs driver
   * takes tens of seconds to start, a pod may wait for a node). */
  connectTimeoutMs?: number;
  /** How often the launcher is asked whether the worker still runs (default 2 s). */
  pollMs?: number;
  /** Who mints the attempt's token (default: an in-memory secret). */
  credentials?: WorkerCredentials;
}

export interface StartedLaunchedWorker {
  launched: LaunchedWorker;
  client: WorkerClient;
  hub: WorkerHub;
  /** Rejects once the launcher reports the worker exited or gone; never resolves. */
  died: Promise<never>;
  /** Asks the worker to shut down, stops it through the launcher (removing its container or
   * Job), and closes the hub: the token is accepted nowhere after this. */
  close(): Promise<void>;
}

export class WorkerExitedError extends Error {
  constructor(
    readonly observation: WorkerObservation,
    readonly logTail: string[],
  ) {
    const how = observation.state === "missing" ? "disappeared" : `exited (${observation.exitCode ?? "no code"}${observation.reason ? `, ${observation.reason}` : ""})`;
    super(`worker ${how}${logTail.length ? `:\n${logTail.join("\n")}` : ""}`);
    this.name = "WorkerExitedError";
  }
}

async function tail(launcher: Launcher, id: string, lines = 20): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const line of launcher.logs(id)) {
      out.push(line);
      if (out.length > lines) out.shift();
    }
  } catch {
    // a removed worker has no logs left; the observation says enough
  }
  return out;
}

export async function startLaunchedWorker(opts: StartLaunchedWorkerOptions): Promise<StartedLaunchedWorker> {
  const { launcher } = opts;
  const issued = await (opts.credentials ?? ephemeralWorkerCredentials).issue(opts.spec.runId, opts.spec.attempt);
  const { token } = issued;
  let hub: WorkerHub;
  try {
    hub = await WorkerHub.listen({
      ...opts.client,
      host: opts.hubHost,
      ...(opts.hubPort !== undefined ? { port: opts.hubPort } : {}),
      // One worker per token: only the worker this attempt launched may use it (and reconnect
      // with it after a drop), whoever else learns the token.
      verifyToken: async (candidate, hello) => {
        if (hello.workerId !== opts.spec.workerId) return false;
        return issued.verify(candidate);
      },
    });
  } catch (e) {
    await issued.revoke();
    throw e;
  }
  const hubUrl = opts.advertisedUrl ? opts.advertisedUrl(hub.url) : hub.url;
  let launched: LaunchedWorker;
  try {
    launched = await launcher.create({ ...opts.spec, hubUrl, token });
  } catch (e) {
    await Promise.allSettled([hub.close(), issued.revoke()]);
    throw e;
  }

  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const pollMs = opts.pollMs ?? 2000;
  // One watcher for both phases: while connecting it ends the wait early, afterwards it is `died`.
  const died = new Promise<never>((_, reject) => {
    const check = async () => {
      if (closed) return;
      let seen: WorkerObservation;
      try {
        seen = await launcher.observe(launched.id);
      } catch {
        seen = { state: "running", exitCode: null }; // the launcher's API blinked: ask again later
      }
      if (closed) return;
      if (seen.state === "exited" || seen.state === "missing") reject(new WorkerExitedError(seen, await tail(launcher, launched.id)));
      else timer = setTimeout(() => void check(), pollMs);
    };
    timer = setTimeout(() => void check(), pollMs);
  });
  died.catch(() => undefined);

  const close = async () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    const client = hub.workers().find((c) => c.hello.workerId === launched.workerId);
    if (client?.connected) await client.shutdown({ timeoutMs: 10_000 }).catch(() => undefined);
    try {
      await launcher.stop(launched.id, { graceMs: 10_000 });
    } finally {
      await Promise.allSettled([hub.close(), issued.revoke()]);
    }
  };

  let client: WorkerClient;
  try {
    client = await Promise.race([hub.waitForWorker(launched.workerId, opts.connectTimeoutMs ?? 300_000), died]);
  } catch (e) {
    const logs = e instanceof WorkerExitedError ? [] : await tail(launcher, launched.id);
    await close().catch(() => undefined);
    if (logs.length) (e as Error).message += `\nworker log:\n${logs.join("\n")}`;
    throw e;
  }
  return { launched, client, hub, died, close };
}
