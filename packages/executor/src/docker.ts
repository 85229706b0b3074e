import { createHash, randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import type { Socket } from "node:net";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { PassThrough, Writable } from "node:stream";
import Docker from "dockerode";
import { SandboxUnavailableError } from "./backend.ts";
import type { SandboxBackend } from "./backend.ts";
import { frame } from "./channel.ts";
import type { RunnerChannel } from "./channel.ts";
import { pythonCommand } from "./runner-source.ts";
import { DEBIAN_DIST_PACKAGES, checkSystemModules, systemModulesEnv, type SystemModule } from "./system-modules.ts";

export interface DockerOptions {
  /** Built by docker/executor/build.sh. */
  image?: string;
  /** Docker Engine socket (default: DOCKER_HOST's unix socket or /var/run/docker.sock). */
  socketPath?: string;
  /** Label value that marks this installation's containers (for reuse and clean-up). */
  installationId?: string;
  /** Memory of each container (the job's own address-space limit is set inside, per job). */
  memoryMb?: number;
  cpus?: number;
  pidsLimit?: number;
  tmpMb?: number;
  hashSeed?: number;
  python?: string;
  /** How the pool talks to a runner. `socket` (default): a Unix socket in a per-container host
   * directory, bind-mounted read-only and deleted once the runner has connected — the fast path,
   * for a daemon on this machine. `attach`: the container's stdin/stdout through the daemon. */
  channel?: "socket" | "attach";
  /** Scoring pools only (see system-modules.ts): put the image's dist-packages on sys.path and
   * import these modules at start. Other pools get an empty read-only tmpfs over dist-packages,
   * so model programs cannot reach python3-sympy, which the image carries for scoring. */
  systemModules?: readonly SystemModule[];
}

export const DEFAULT_DOCKER_IMAGE = "azr/executor:bookworm";
const LABEL_INSTALLATION = "org.azr.executor.installation";
const LABEL_OWNER = "org.azr.executor.owner";

function defaultSocket(): string {
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith("unix://")) return host.slice("unix://".length);
  return "/var/run/docker.sock";
}

/** Identifies this machine and checkout, so two installations never touch each other's containers. */
export function defaultInstallationId(): string {
  return createHash("sha256").update(`${hostname()}:${process.cwd()}`).digest("hex").slice(0, 16);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Warm containers, one runner each, managed through the Docker Engine API. Each container is
 * started with the runner as PID 1 and talked to over its attached stdin/stdout.
 */
export class DockerBackend implements SandboxBackend {
  readonly name = "docker" as const;
  private readonly docker: Docker;
  private readonly opts: Required<Omit<DockerOptions, "systemModules">>;
  private readonly systemModules: SystemModule[];
  private readonly owner = `${hostname()}:${process.pid}`;
  private readonly live = new Set<string>();
  /** Removals in flight; close() waits for them so no container outlives the pool. */
  private readonly removals = new Set<Promise<void>>();

  constructor(options: DockerOptions = {}) {
    this.opts = {
      image: options.image ?? process.env.AZR_EXECUTOR_IMAGE ?? DEFAULT_DOCKER_IMAGE,
      socketPath: options.socketPath ?? defaultSocket(),
      installationId: options.installationId ?? defaultInstallationId(),
      memoryMb: options.memoryMb ?? 1024,
      // Two CPUs per container: with one, CFS quota throttling cost about half the throughput in
      // a benchmark here (bursts of fork + exit); a job's own CPU time is capped by RLIMIT_CPU.
      cpus: options.cpus ?? 2,
      pidsLimit: options.pidsLimit ?? 16,
      tmpMb: options.tmpMb ?? 64,
      hashSeed: options.hashSeed ?? 0,
      python: options.python ?? "/usr/bin/python3",
      channel: options.channel ?? "socket",
    };
    this.systemModules = checkSystemModules(options.systemModules);
    this.docker = new Docker({ socketPath: this.opts.socketPath });
  }

  async prepare(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (e) {
      throw new SandboxUnavailableError(
        `the Docker daemon is not reachable at ${this.opts.socketPath} (${(e as Error).message})`,
        "sudo apt-get install docker.io && sudo dockerd --storage-driver=vfs --iptables=false --bridge=none &  (or use the bwrap backend)",
      );
    }
    try {
      await this.docker.getImage(this.opts.image).inspect();
    } catch {
      throw new SandboxUnavailableError(`the executor image ${this.opts.image} does not exist`, "sudo bash docker/executor/build.sh");
    }
    await this.removeStale();
  }

  /** Removes containers of this installation whose owning process is gone (a crashed pool). */
  private async removeStale(): Promise<void> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_INSTALLATION}=${this.opts.installationId}`] },
    });
    const me = hostname();
    await Promise.all(
      containers.map(async (c) => {
        const owner = c.Labels[LABEL_OWNER] ?? "";
        const [host, pid] = owner.split(":");
        if (host === me && pid && pidAlive(Number(pid))) return;
        await this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
      }),
    );
  }

  describe(): string {
    return (
      `docker: image ${this.opts.image}, --network none, read-only root, ${this.opts.tmpMb} MiB tmpfs /tmp, ` +
      `memory ${this.opts.memoryMb} MiB, pids ${this.opts.pidsLimit}, ${this.opts.cpus} CPU, uid 65534, ` +
      `cap-drop ALL, no-new-privileges, default seccomp, no IPC namespace sharing, ${this.opts.channel} channel`
    );
  }

  /** The container configuration (exported for tests and `doctor`). */
  containerSpec(slot: number): Docker.ContainerCreateOptions {
    const mib = 1024 * 1024;
    return {
      Image: this.opts.image,
      Cmd: pythonCommand(this.opts.python),
      Env: [
        `PYTHONHASHSEED=${this.opts.hashSeed}`,
        "LANG=C.UTF-8",
        "AZR_RUNNER_GREETING=on-hello",
        ...Object.entries(systemModulesEnv(this.systemModules)).map(([k, v]) => `${k}=${v}`),
      ],
      User: "65534:65534",
      WorkingDir: "/tmp",
      OpenStdin: true,
      StdinOnce: false,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      NetworkDisabled: true,
      Labels: {
        [LABEL_INSTALLATION]: this.opts.installationId,
        [LABEL_OWNER]: this.owner,
        "org.azr.executor.slot": String(slot),
      },
      HostConfig: {
        NetworkMode: "none",
        ReadonlyRootfs: true,
        Tmpfs: {
          "/tmp": `rw,nosuid,nodev,noexec,size=${this.opts.tmpMb}m,mode=0700,uid=65534,gid=65534`,
          ...(this.systemModules.length === 0 ? { [DEBIAN_DIST_PACKAGES]: "ro,nosuid,nodev,noexec,size=4k,mode=0555" } : {}),
        },
        Memory: this.opts.memoryMb * mib,
        MemorySwap: this.opts.memoryMb * mib,
        PidsLimit: this.opts.pidsLimit,
        NanoCpus: Math.round(this.opts.cpus * 1e9),
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges:true"],
        IpcMode: "none",
        Privileged: false,
        Init: false,
        AutoRemove: false,
        LogConfig: { Type: "none", Config: {} },
      },
    };
  }

  async startRunner(slot: number): Promise<RunnerChannel> {
    return this.opts.channel === "socket" ? this.startWithSocket(slot) : this.startAttached(slot);
  }

  private trackRemoval(container: Docker.Container): () => Promise<void> {
    let removed: Promise<void> | undefined;
    return () => {
      if (!removed) {
        const p = container
          .remove({ force: true })
          .catch(() => undefined)
          .then(() => {
            this.live.delete(container.id);
            this.removals.delete(p);
          });
        removed = p;
        this.removals.add(p);
      }
      return removed;
    };
  }

  private async startWithSocket(slot: number): Promise<RunnerChannel> {
    const dir = mkdtempSync(path.join(tmpdir(), "azr-exec-"));
    const cleanDir = () => rmSync(dir, { recursive: true, force: true });
    // While the socket exists only the container's uid may reach it: as root the directory is
    // handed to uid 65534; otherwise it can be traversed but not listed, and the name is random.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(dir, 65534, 65534);
    chmodSync(dir, asRoot ? 0o700 : 0o711);
    const name = `s-${randomBytes(12).toString("hex")}`;
    const sockPath = path.join(dir, name);
    const server = createServer();
    const connected = new Promise<Socket>((resolve, reject) => {
      server.once("connection", resolve);
      server.once("error", reject);
    });
    await new Promise<void>((resolve, reject) => server.listen(sockPath, resolve).once("error", reject));
    if (asRoot) chownSync(sockPath, 65534, 65534);
    chmodSync(sockPath, asRoot ? 0o600 : 0o666);
    const spec = this.containerSpec(slot);
    spec.Env = [...(spec.Env ?? []).filter((e) => !e.startsWith("AZR_RUNNER_GREETING=")), `AZR_RUNNER_CONNECT=/run/azr/${name}`];
    spec.OpenStdin = false;
    spec.AttachStdin = false;
    spec.HostConfig = { ...spec.HostConfig, Binds: [`${dir}:/run/azr:ro`] };
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(spec);
    } catch (e) {
      server.close();
      cleanDir();
      throw e;
    }
    this.live.add(container.id);
    const remove = this.trackRemoval(container);
    let sock: Socket;
    try {
      await container.start();
      sock = await Promise.race([
        connected,
        container.wait().then((r: { StatusCode?: number }) => {
          throw new Error(`container exited with code ${r.StatusCode ?? "?"} before connecting`);
        }),
      ]);
    } catch (e) {
      await remove();
      throw new Error(`cannot start executor container: ${(e as Error).message}`);
    } finally {
      // The socket file goes away before any job can run: nothing inside can reach it again.
      server.close();
      cleanDir();
    }
    sock.on("error", () => undefined);
    const exited = new Promise<string>((resolve) => {
      let done = false;
      const finish = (how: string) => {
        if (!done) {
          done = true;
          resolve(how);
        }
      };
      sock.once("close", () => finish("runner connection closed"));
      container.wait().then(
        (r: { StatusCode?: number }) => finish(`container exited with code ${r.StatusCode ?? "?"}`),
        (e: Error) => finish(`container wait failed: ${e.message}`),
      );
    });
    void exited.then(() => {
      sock.destroy();
      return remove();
    });
    return {
      input: sock,
      output: sock,
      exited,
      label: `docker ${container.id.slice(0, 12)} slot ${slot}`,
      async kill() {
        sock.destroy();
        await remove();
        await exited;
      },
    };
  }

  private async startAttached(slot: number): Promise<RunnerChannel> {
    const container = await this.docker.createContainer(this.containerSpec(slot));
    this.live.add(container.id);
    const remove = this.trackRemoval(container);
    let stream: NodeJS.ReadWriteStream;
    try {
      // Attached after the start: attaching first let some containers see end-of-file on stdin
      // at once (their runner exited with code 0 before any request). The runner waits for a
      // hello line before greeting, so nothing it writes is missed.
      await container.start();
      stream = await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
    } catch (e) {
      await remove();
      throw new Error(`cannot start executor container: ${(e as Error).message}`);
    }
    const output = new PassThrough();
    const diagnostics = new PassThrough();
    output.on("error", () => undefined);
    diagnostics.on("error", () => undefined);
    this.docker.modem.demuxStream(stream, output, diagnostics);
    const exited = new Promise<string>((resolve) => {
      let done = false;
      const finish = (how: string) => {
        if (done) return;
        done = true;
        resolve(how);
      };
      stream.on("end", () => {
        output.end();
        diagnostics.end();
      });
      stream.on("error", (e: Error) => finish(`container stream error: ${e.message}`));
      container.wait().then(
        (r: { StatusCode?: number }) => finish(`container exited with code ${r.StatusCode ?? "?"}`),
        (e: Error) => finish(`container wait failed: ${e.message}`),
      );
    });
    void exited.then(() => remove());
    stream.write(frame(JSON.stringify({ kind: "hello" })));
    const input = new Writable({
      write(chunk: Buffer, _enc, cb) {
        stream.write(chunk, cb);
      },
    });
    return {
      input,
      output,
      diagnostics,
      exited,
      label: `docker ${container.id.slice(0, 12)} slot ${slot}`,
      async kill() {
        await remove();
        await exited;
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.removals]);
    await Promise.all([...this.live].map((id) => this.docker.getContainer(id).remove({ force: true }).catch(() => undefined)));
    this.live.clear();
  }
}
