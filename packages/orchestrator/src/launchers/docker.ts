import { mkdirSync } from "node:fs";
import Docker from "dockerode";
import { LineSplitter } from "./log-lines.ts";
import { checkSpec, chooseImage, idPattern, workerEnvironment } from "./spec.ts";
import {
  LauncherError,
  type LaunchedWorker,
  type Launcher,
  type LeftoverWorker,
  type LogOptions,
  type ReconcileOptions,
  type ReconcileReport,
  type WorkerObservation,
  type WorkerSpec,
} from "./types.ts";

/** Labels every worker container carries; reconcile finds this installation's by the first. */
export const DOCKER_LABELS = {
  installation: "org.azr.installation",
  run: "org.azr.run",
  attempt: "org.azr.attempt",
  worker: "org.azr.worker",
  pool: "org.azr.pool",
  model: "org.azr.model",
} as const;

/** Where the spec's data root appears inside the container. */
export const CONTAINER_DATA_ROOT = "/data";

export interface DockerLauncherOptions {
  /** Names this control-plane installation; its containers are labelled with it, and reconcile
   * touches no container without it. Stable across restarts (keep it in the server's config). */
  installationId: string;
  /** A client for the daemon; by default one on `socketPath`. */
  docker?: Docker;
  /** The daemon's socket (default /var/run/docker.sock, as in the pool config). */
  socketPath?: string;
  /**
   * The network worker containers join (default: "azr-workers-<installationId>", a bridge
   * network this launcher creates, see ensureNetwork). The worker only dials the hub; bind the
   * hub to the network's gateway address. "host" also works (the hub on 127.0.0.1) but then the
   * worker can reach every service bound to the host's loopback, the database included: see
   * README.md.
   */
  network?: string;
  /** The uid:gid the worker runs as (default 10001:10001, the worker image's user). The data
   * root must be writable by it. */
  user?: string;
  /** Used when the spec gives none (a container always gets limits). */
  defaultCpus?: number;
  defaultMemoryGb?: number;
  /** Processes and threads in the container (default 1024). */
  pidsLimit?: number;
  /** Size of the /tmp tmpfs, the only writable place besides /data (default 512 MB). */
  tmpfsMb?: number;
}

/** An error from the Docker API carries the HTTP status. */
function statusOf(e: unknown): number | undefined {
  return typeof e === "object" && e !== null && "statusCode" in e ? Number((e as { statusCode: unknown }).statusCode) : undefined;
}

/**
 * Worker containers through the Docker API (dockerode). Only the control plane talks to the
 * daemon; the socket is never mounted into a worker (see README.md: whoever reaches it is root
 * on the host). Each container runs one of the pool's digest-pinned images, as a non-root user,
 * with all capabilities dropped, no-new-privileges, a read-only root filesystem and CPU, memory
 * and process limits; the token reaches it in its environment only.
 */
export class DockerLauncher implements Launcher {
  readonly kind = "docker" as const;
  readonly docker: Docker;
  /** Containers this instance created: reconcile leaves them alone. */
  private readonly mine = new Set<string>();
  private network: Promise<{ name: string; gateway: string | null }> | undefined;

  /** uid and gid the worker runs as: directories it must write to are handed to them. */
  get workerIds(): { uid: number; gid: number } {
    const [uid = "10001", gid = uid] = (this.options.user ?? "10001:10001").split(":");
    return { uid: Number(uid), gid: Number(gid) };
  }

  constructor(private readonly options: DockerLauncherOptions) {
    if (!idPattern.test(options.installationId))
      throw new LauncherError("docker", `installationId ${JSON.stringify(options.installationId)} must be 1-63 letters, digits, '.', '_' or '-'`);
    this.docker = options.docker ?? new Docker({ socketPath: options.socketPath ?? "/var/run/docker.sock" });
  }

  get networkName(): string {
    return this.options.network ?? `azr-workers-${this.options.installationId}`;
  }

  /**
   * Makes sure the workers' network exists and returns the address the hub must listen on to be
   * reachable from it: the bridge's gateway (the host's address on that bridge), or null with
   * the host network (listen on 127.0.0.1). Bridge networks work without Docker's iptables
   * rules (probed on a daemon started with --iptables=false --bridge=none).
   */
  ensureNetwork(): Promise<{ name: string; gateway: string | null }> {
    this.network ??= this.findOrCreateNetwork().catch((e: unknown) => {
      this.network = undefined;
      throw new LauncherError("docker", `cannot set up network ${this.networkName}: ${(e as Error).message}`, { cause: e });
    });
    return this.network;
  }

  private async findOrCreateNetwork(): Promise<{ name: string; gateway: string | null }> {
    const name = this.networkName;
    if (name === "host") return { name, gateway: null };
    const gatewayOf = (n: Docker.NetworkInspectInfo) => n.IPAM?.Config?.find((c) => c.Gateway)?.Gateway ?? null;
    try {
      return { name, gateway: gatewayOf(await this.docker.getNetwork(name).inspect()) };
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
    }
    try {
      await this.docker.createNetwork({
        Name: name,
        Driver: "bridge",
        CheckDuplicate: true,
        Labels: { [DOCKER_LABELS.installation]: this.options.installationId },
      });
    } catch (e) {
      // 409: another process made it meanwhile.
      if (statusOf(e) !== 409) throw e;
    }
    return { name, gateway: gatewayOf(await this.docker.getNetwork(name).inspect()) };
  }

  /**
   * The image id to run for a pinned reference. A registry image is found by its repository
   * digest; a locally built one (no registry here) by its image id, which is equally a content
   * address. Either way the container is created from the id, so no tag is ever followed.
   */
  async resolveImage(ref: string, pool: { name: string; images: string[] }): Promise<string> {
    const { repository, digest } = chooseImage("docker", pool, ref);
    try {
      return (await this.docker.getImage(`${repository}@${digest}`).inspect()).Id;
    } catch (e) {
      if (statusOf(e) !== 404) throw new LauncherError("docker", `cannot inspect image ${ref}: ${(e as Error).message}`, { cause: e });
    }
    try {
      const local = await this.docker.getImage(digest).inspect();
      if (local.Id === digest) return local.Id;
    } catch (e) {
      if (statusOf(e) !== 404) throw new LauncherError("docker", `cannot inspect image ${ref}: ${(e as Error).message}`, { cause: e });
    }
    try {
      await this.pull(`${repository}@${digest}`);
      return (await this.docker.getImage(`${repository}@${digest}`).inspect()).Id;
    } catch (e) {
      throw new LauncherError("docker", `image ${ref} is not on the Docker host and could not be pulled: ${(e as Error).message}`, { cause: e });
    }
  }

  private async pull(ref: string): Promise<void> {
    const stream = await this.docker.pull(ref);
    await new Promise<void>((resolve, reject) =>
      this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
    );
  }

  /** The container's creation options (exposed so tests can check the security settings). */
  containerOptions(spec: WorkerSpec, imageId: string): Docker.ContainerCreateOptions {
    const o = this.options;
    const cpus = spec.resources.cpus ?? o.defaultCpus ?? 2;
    const memoryBytes = Math.round((spec.resources.memoryGb ?? o.defaultMemoryGb ?? 8) * 1024 ** 3);
    const env = workerEnvironment(spec, CONTAINER_DATA_ROOT);
    return {
      name: containerName(o.installationId, spec.workerId),
      Image: imageId,
      // More than one GPU: one process per GPU under torchrun, as the local spawner does.
      ...(spec.gpus > 1
        ? { Entrypoint: ["python3", "-m", "azr_worker.launch", "--standalone", `--nproc_per_node=${spec.gpus}`, "-m", "azr_worker"] }
        : {}),
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      User: o.user ?? "10001:10001",
      Labels: {
        [DOCKER_LABELS.installation]: o.installationId,
        [DOCKER_LABELS.run]: spec.runId,
        [DOCKER_LABELS.attempt]: String(spec.attempt),
        [DOCKER_LABELS.worker]: spec.workerId,
        [DOCKER_LABELS.pool]: spec.pool.name,
        [DOCKER_LABELS.model]: spec.model.name,
      },
      HostConfig: {
        NetworkMode: this.networkName,
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges:true"],
        ReadonlyRootfs: true,
        Privileged: false,
        Tmpfs: { "/tmp": `rw,nosuid,nodev,noexec,size=${o.tmpfsMb ?? 512}m` },
        Mounts: [{ Type: "bind", Source: spec.dataRoot, Target: CONTAINER_DATA_ROOT, ReadOnly: false }],
        Memory: memoryBytes,
        // Equal to Memory: no swap on top of the limit.
        MemorySwap: memoryBytes,
        NanoCpus: Math.round(cpus * 1e9),
        PidsLimit: o.pidsLimit ?? 1024,
        RestartPolicy: { Name: "no" },
        // Kept after exit so its exit code and logs can be read; stop() and reconcile() remove it.
        AutoRemove: false,
        ...(spec.gpus > 0
          ? {
              DeviceRequests: [{ Driver: "", Count: spec.gpus, Capabilities: [["gpu"]] }],
              // NCCL and torch's shared-memory tensors outgrow Docker's 64 MB default.
              ShmSize: 1024 ** 3,
            }
          : {}),
      },
    };
  }

  async create(spec: WorkerSpec): Promise<LaunchedWorker> {
    const pool = checkSpec("docker", spec);
    const image = await this.resolveImage(spec.image ?? pool.images[0]!, pool);
    await this.ensureNetwork();
    mkdirSync(spec.dataRoot, { recursive: true });
    const options = this.containerOptions(spec, image);
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(options).catch(async (e: unknown) => {
        // The name is taken: by a stopped leftover of this installation (a server that crashed
        // before reconcile ran) it is freed and the create retried; anything else is an error.
        if (statusOf(e) !== 409 || !(await this.removeStoppedLeftover(options.name!))) throw e;
        return this.docker.createContainer(options);
      });
    } catch (e) {
      throw new LauncherError("docker", `cannot create the container for worker ${spec.workerId}: ${(e as Error).message}`, { cause: e });
    }
    this.mine.add(container.id);
    try {
      await container.start();
    } catch (e) {
      await container.remove({ force: true }).catch(() => undefined);
      this.mine.delete(container.id);
      throw new LauncherError("docker", `cannot start the container for worker ${spec.workerId}: ${(e as Error).message}`, { cause: e });
    }
    return {
      kind: "docker",
      id: container.id,
      workerId: spec.workerId,
      runId: spec.runId,
      attempt: spec.attempt,
      startedAt: new Date(),
      image,
    };
  }

  async observe(id: string): Promise<WorkerObservation> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(id).inspect();
    } catch (e) {
      if (statusOf(e) === 404) return { state: "missing", exitCode: null };
      throw new LauncherError("docker", `cannot inspect container ${id}: ${(e as Error).message}`, { cause: e });
    }
    const s = info.State;
    if (s.Status === "created") return { state: "pending", exitCode: null };
    if (s.Running || s.Status === "running" || s.Status === "restarting" || s.Status === "paused") return { state: "running", exitCode: null };
    const reason = s.OOMKilled ? "killed: out of memory (the container's memory limit)" : s.Error || undefined;
    return { state: "exited", exitCode: s.ExitCode, ...(reason ? { reason } : {}) };
  }

  async *logs(id: string, options: LogOptions = {}): AsyncGenerator<string> {
    const container = this.docker.getContainer(id);
    const demux = new DockerLogDemuxer();
    try {
      if (options.follow) {
        const stream = await container.logs({ follow: true, stdout: true, stderr: true });
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) yield* demux.feed(chunk);
        } finally {
          // A consumer that stops early must not leave the HTTP stream open.
          (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        }
      } else {
        yield* demux.feed(await container.logs({ follow: false, stdout: true, stderr: true }));
      }
    } catch (e) {
      if (statusOf(e) === 404) throw new LauncherError("docker", `no container ${id}`, { cause: e });
      throw e;
    }
    yield* demux.end();
  }

  async stop(id: string, options: { graceMs?: number } = {}): Promise<void> {
    const container = this.docker.getContainer(id);
    try {
      // SIGTERM (the worker closes its connection and exits), SIGKILL after t seconds.
      await container.stop({ t: Math.max(1, Math.ceil((options.graceMs ?? 10_000) / 1000)) });
    } catch (e) {
      const code = statusOf(e);
      // 304: already stopped; 404: already gone.
      if (code !== 304 && code !== 404) throw new LauncherError("docker", `cannot stop container ${id}: ${(e as Error).message}`, { cause: e });
    }
    await this.remove(id);
    this.mine.delete(id);
  }

  private async removeStoppedLeftover(name: string): Promise<boolean> {
    const info = await this.docker.getContainer(name).inspect().catch(() => undefined);
    if (!info || info.Config.Labels?.[DOCKER_LABELS.installation] !== this.options.installationId) return false;
    if (this.mine.has(info.Id) || info.State.Running) return false;
    await this.remove(info.Id);
    return true;
  }

  private async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (e) {
      const code = statusOf(e);
      // 404: gone; 409: a removal is already in progress.
      if (code !== 404 && code !== 409) throw new LauncherError("docker", `cannot remove container ${id}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** This installation's worker containers, as the daemon lists them (running or not). */
  async list(): Promise<Array<LeftoverWorker & { state: string }>> {
    const found = await this.docker.listContainers({
      all: true,
      filters: { label: [`${DOCKER_LABELS.installation}=${this.options.installationId}`] },
    });
    return found
      // The daemon filtered already; checked again because removing the wrong container is the
      // one mistake reconcile must never make.
      .filter((c) => c.Labels[DOCKER_LABELS.installation] === this.options.installationId)
      .map((c) => {
        const attempt = Number(c.Labels[DOCKER_LABELS.attempt]);
        return { id: c.Id, runId: c.Labels[DOCKER_LABELS.run] ?? null, attempt: Number.isInteger(attempt) ? attempt : null, state: c.State };
      });
  }

  async reconcile(options: ReconcileOptions = {}): Promise<ReconcileReport> {
    const report: ReconcileReport = { removed: [], kept: [] };
    for (const { state: _state, ...w } of await this.list()) {
      if (this.mine.has(w.id) || options.keep?.(w)) {
        report.kept.push(w);
        continue;
      }
      await this.stop(w.id, { graceMs: 1000 });
      report.removed.push(w);
    }
    return report;
  }
}

/** Container names are unique per daemon: the installation keeps two control planes sharing a
 * daemon from colliding on a worker id. */
export function containerName(installationId: string, workerId: string): string {
  return `azr-${installationId}-${workerId}`;
}

/**
 * Docker multiplexes a non-TTY container's stdout and stderr into frames: an 8-byte header
 * (stream, 3 zero bytes, big-endian payload length) and the payload. This undoes that across
 * chunk boundaries and yields lines.
 */
export class DockerLogDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  private readonly splitters = new Map<number, LineSplitter>();

  *feed(chunk: Buffer): Generator<string> {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const stream = this.pending[0]!;
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const payload = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      yield* this.splitter(stream).feed(payload);
    }
  }

  *end(): Generator<string> {
    for (const s of this.splitters.values()) yield* s.end();
  }

  private splitter(stream: number): LineSplitter {
    let s = this.splitters.get(stream);
    if (!s) this.splitters.set(stream, (s = new LineSplitter()));
    return s;
  }
}
