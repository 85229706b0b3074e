// The docker launcher against the real Docker daemon, running the worker-cpu image
// (docker/worker-cpu/build.sh, built once and reused) that dials a real WorkerHub.
// Without a reachable daemon these tests are skipped with the reason printed, except under CI
// (CI=true), where a missing daemon is a failure.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { WorkerHub, tokenVerifier } from "@azr/worker-client";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { poolSchema, type PoolConfig } from "../admin-config.ts";
import { DOCKER_LABELS, DockerLauncher, DockerLogDemuxer, containerName } from "./docker.ts";
import type { WorkerSpec } from "./types.ts";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
// DOCKER_HOST when set (as the docker CLI that build.sh uses), else /var/run/docker.sock.
const docker = new Docker();
const daemon = await docker.ping().then(
  () => ({ ok: true as const, reason: "" }),
  (e: unknown) => ({ ok: false as const, reason: `no Docker daemon at ${process.env.DOCKER_HOST ?? "/var/run/docker.sock"} (${(e as Error).message})` }),
);
const inCI = process.env.CI === "true";
if (!daemon.ok && !inCI) console.warn(`[docker launcher tests] skipped: ${daemon.reason}`);

const installationId = `test-${randomBytes(4).toString("hex")}`;
const token = randomBytes(24).toString("hex");
const absentDigest = `sha256:${"c".repeat(64)}`;

function dockerPool(images: string[], over: object = {}): PoolConfig {
  return poolSchema.parse({ name: "cpu-docker", launcher: "docker", images, resources: { cpus: 1, memoryGb: 2 }, ...over }) as PoolConfig;
}

function workerSpec(pool: PoolConfig, workerId: string, hubUrl: string, over: Partial<WorkerSpec> = {}): WorkerSpec {
  const dataRoot = mkdtempSync(path.join(tmpdir(), "azr-launcher-docker-"));
  // The worker runs as uid 10001 and writes checkpoints under /data.
  if (process.getuid?.() === 0) chownSync(dataRoot, 10001, 10001);
  return {
    runId: `run-${workerId}`,
    attempt: 1,
    workerId,
    hubUrl,
    token,
    backend: "tiny",
    model: { name: "tiny" },
    dataRoot,
    gpus: 0,
    resources: { cpus: 1, memoryGb: 2 },
    pool,
    graceSeconds: 20,
    ...over,
  };
}

describe("docker launcher: container settings (no daemon needed)", () => {
  const launcher = new DockerLauncher({ installationId: "inst-x", docker });
  const pool = dockerPool([`azr/worker-cpu@${absentDigest}`], { gpusPerWorker: 2 });
  const spec = workerSpec(pool, "w-settings", "ws://172.17.0.1:9000/worker", { gpus: 2, resources: { cpus: 4, memoryGb: 16 } });
  const o = launcher.containerOptions(spec, absentDigest);
  const h = o.HostConfig!;

  it("runs by image id as a non-root user with no privileges and a read-only root", () => {
    expect(o.Image).toBe(absentDigest);
    expect(o.User).toBe("10001:10001");
    expect(h.CapDrop).toEqual(["ALL"]);
    expect(h.CapAdd).toBeUndefined();
    expect(h.SecurityOpt).toEqual(["no-new-privileges:true"]);
    expect(h.Privileged).toBe(false);
    expect(h.ReadonlyRootfs).toBe(true);
    expect(h.Tmpfs).toEqual({ "/tmp": "rw,nosuid,nodev,noexec,size=512m" });
    expect(h.NetworkMode).toBe("azr-workers-inst-x");
  });

  it("limits memory (no swap), CPUs and processes, and mounts only the data root", () => {
    expect(h.Memory).toBe(16 * 1024 ** 3);
    expect(h.MemorySwap).toBe(h.Memory);
    expect(h.NanoCpus).toBe(4e9);
    expect(h.PidsLimit).toBe(1024);
    expect(h.Mounts).toEqual([{ Type: "bind", Source: spec.dataRoot, Target: "/data", ReadOnly: false }]);
    expect(h.Binds).toBeUndefined();
    // The Docker socket never reaches a worker.
    expect(JSON.stringify(o)).not.toContain("docker.sock");
  });

  it("asks for the GPUs with a device request, one process per GPU", () => {
    expect(h.DeviceRequests).toEqual([{ Driver: "", Count: 2, Capabilities: [["gpu"]] }]);
    expect(o.Entrypoint).toEqual(["python3", "-m", "azr_worker.launch", "--standalone", "--nproc_per_node=2", "-m", "azr_worker"]);
    const cpu = launcher.containerOptions({ ...spec, gpus: 0 }, absentDigest);
    expect(cpu.HostConfig!.DeviceRequests).toBeUndefined();
    expect(cpu.Entrypoint).toBeUndefined();
  });

  it("puts the token in the environment only, and the ids in labels", () => {
    expect(o.Env).toContain(`AZR_WORKER_TOKEN=${token}`);
    expect(JSON.stringify(o.Labels)).not.toContain(token);
    expect(o.Cmd).toBeUndefined();
    expect(o.Labels).toEqual({
      [DOCKER_LABELS.installation]: "inst-x",
      [DOCKER_LABELS.run]: "run-w-settings",
      [DOCKER_LABELS.attempt]: "1",
      [DOCKER_LABELS.worker]: "w-settings",
      [DOCKER_LABELS.pool]: "cpu-docker",
      [DOCKER_LABELS.model]: "tiny",
    });
    expect(o.name).toBe(containerName("inst-x", "w-settings"));
  });

  it("refuses images the pool does not allow or that are not pinned by digest", async () => {
    await expect(launcher.create({ ...spec, image: `other/image@${absentDigest}` })).rejects.toThrow(/not one of pool cpu-docker's allowed images/);
    const loose = { ...pool, images: ["azr/worker-cpu:latest"] } as PoolConfig;
    await expect(launcher.create({ ...spec, pool: loose })).rejects.toThrow(/not pinned by digest/);
  });

  it("demultiplexes Docker's log frames across chunk boundaries", () => {
    const frame = (stream: number, text: string) => {
      const body = Buffer.from(text);
      const head = Buffer.alloc(8);
      head[0] = stream;
      head.writeUInt32BE(body.length, 4);
      return Buffer.concat([head, body]);
    };
    const all = Buffer.concat([frame(1, "one\ntw"), frame(2, "err line\n"), frame(1, "o\nthree")]);
    const d = new DockerLogDemuxer();
    const lines = [...d.feed(all.subarray(0, 5)), ...d.feed(all.subarray(5, 20)), ...d.feed(all.subarray(20)), ...d.end()];
    expect(lines).toEqual(["one", "err line", "two", "three"]);
  });
});

describe.skipIf(!daemon.ok && !inCI)("docker launcher with the real daemon and the worker-cpu image", () => {
  if (!daemon.ok) {
    // Under CI a missing daemon is a failure of its own, not a reason to skip.
    it("has a Docker daemon to run against (required when CI=true)", () => {
      throw new Error(`CI=true and ${daemon.reason}: the docker launcher must be tested in CI (dockerd is started by .ci/setup.d/50-docker.sh)`);
    });
    return;
  }
  let imageRef: string;
  let pool: PoolConfig;
  let hub: WorkerHub;
  let launcher: DockerLauncher;
  const network = `azr-test-${installationId}`;
  const empty = `azr/launcher-test-empty:${installationId}`;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    // Reused when already built (the CI hook builds it before the tests); minutes otherwise.
    const { stdout } = await promisify(execFile)("bash", [path.join(REPO, "docker/worker-cpu/build.sh")], { timeout: 1_000_000, maxBuffer: 1 << 20 });
    imageRef = stdout.trim().split("\n").at(-1)!;
    expect(imageRef).toMatch(/^azr\/worker-cpu@sha256:[a-f0-9]{64}$/);
    pool = dockerPool([imageRef]);
    launcher = new DockerLauncher({ installationId, docker, network });
    const { gateway } = await launcher.ensureNetwork();
    cleanups.push(() => docker.getNetwork(network).remove());
    hub = await WorkerHub.listen({ host: gateway ?? "127.0.0.1", verifyToken: tokenVerifier(token) });
    cleanups.push(() => hub.close());
    // An image with no files, for containers that are only created, never started: with the vfs
    // driver each container of the worker image costs a 1.2 GB copy.
    const [repo, tag] = empty.split(":");
    const progress = await docker.importImage(Readable.from([Buffer.alloc(1024)]), { repo, tag });
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(progress, (err: Error | null) => (err ? reject(err) : resolve())));
    cleanups.push(() => docker.getImage(empty).remove({ force: true }));
  }, 1_100_000);

  async function bare(labels: Record<string, string>, name?: string): Promise<string> {
    const c = await docker.createContainer({ Image: empty, Cmd: ["/nothing"], Labels: labels, ...(name ? { name } : {}) });
    cleanups.push(() => c.remove({ force: true }).catch(() => undefined));
    return c.id;
  }

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => console.warn(`cleanup: ${(e as Error).message}`));
  });

  // Minutes, not seconds, on a loaded machine: each worker container is a 1.2 GB copy (vfs).
  it("starts the worker container; it dials the hub, answers, logs; stop removes it", { timeout: 300_000 }, async () => {
    const spec = workerSpec(pool, `w-${installationId}`, hub.url);
    // A stopped leftover holding the container name (a crash before reconcile): freed and reused.
    const stale = await bare({ [DOCKER_LABELS.installation]: installationId, [DOCKER_LABELS.run]: spec.runId }, containerName(installationId, spec.workerId));
    const launched = await launcher.create(spec);
    await expect(docker.getContainer(stale).inspect()).rejects.toMatchObject({ statusCode: 404 });
    cleanups.push(() => launcher.stop(launched.id, { graceMs: 1000 }));
    expect(launched).toMatchObject({ kind: "docker", workerId: spec.workerId, runId: spec.runId, attempt: 1, image: imageRef.split("@")[1] });

    const info = await docker.getContainer(launched.id).inspect();
    expect(info.Config.Labels[DOCKER_LABELS.installation]).toBe(installationId);
    expect(info.Config.User).toBe("10001:10001");
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.HostConfig.CapDrop).toEqual(["ALL"]);
    expect(info.HostConfig.SecurityOpt).toEqual(["no-new-privileges:true"]);
    expect(info.HostConfig.Memory).toBe(2 * 1024 ** 3);
    expect(info.HostConfig.PidsLimit).toBe(1024);
    expect(info.Mounts.map((m) => m.Destination)).toEqual(["/data"]);
    expect([...info.Args, info.Path].join(" ")).not.toContain(token);

    const client = await hub.waitForWorker(spec.workerId, 180_000);
    expect(client.hello.backend).toBe("tiny");
    await client.load({ model: "tiny", tiny: { nLayer: 1, nHead: 2, dModel: 32, contextLength: 32 }, seed: 5 });
    const g = await client.generate({ prompts: ["hi"], n: 2, maxTokens: 4, seed: 2, store: false });
    expect(g.rollouts).toHaveLength(2);
    // It writes under /data (the host's data root) and nowhere else in its root filesystem.
    await client.save({ path: "ckpt/step-1" });
    expect(readdirSync(path.join(spec.dataRoot, "ckpt/step-1")).length).toBeGreaterThan(0);
    expect(await launcher.observe(launched.id)).toEqual({ state: "running", exitCode: null });

    const lines: string[] = [];
    for await (const l of launcher.logs(launched.id)) lines.push(l);
    expect(lines.join("\n")).toContain(`as ${spec.workerId}`);
    expect(lines.join("\n")).not.toContain(token);

    const followed = (async () => {
      const seen: string[] = [];
      for await (const l of launcher.logs(launched.id, { follow: true })) seen.push(l);
      return seen;
    })();
    const t0 = Date.now();
    await launcher.stop(launched.id, { graceMs: 60_000 });
    // The worker handles SIGTERM, so this is the removal's time (seconds with the vfs driver),
    // not the 60 s a worker ignoring SIGTERM would take before its SIGKILL.
    expect(Date.now() - t0).toBeLessThan(50_000);
    expect((await followed).length).toBeGreaterThanOrEqual(lines.length);
    expect(await launcher.observe(launched.id)).toEqual({ state: "missing", exitCode: null });
    await expect(docker.getContainer(launched.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    hub.remove(spec.workerId);
  });

  it("reconcile removes this installation's leftovers after a crash, and no one else's", async () => {
    // A server process that started a worker and then died: its launcher instance is gone.
    const crashed = new DockerLauncher({ installationId, docker, network });
    const leftover = await crashed.create(workerSpec(pool, `left-${installationId}`, hub.url, { runId: "run-crashed", attempt: 3 }));
    cleanups.push(() => crashed.stop(leftover.id, { graceMs: 1000 }));
    // Containers that are only created (a crash between create and start) and someone else's
    // (another installation sharing the daemon, an unlabelled one).
    const createdOnly = await bare({ [DOCKER_LABELS.installation]: installationId, [DOCKER_LABELS.run]: "run-half", [DOCKER_LABELS.attempt]: "1" });
    const theirs = await bare({ [DOCKER_LABELS.installation]: `${installationId}-other`, [DOCKER_LABELS.run]: "run-theirs", [DOCKER_LABELS.attempt]: "1" });
    const unlabelled = await bare({});
    const kept = await bare({ [DOCKER_LABELS.installation]: installationId, [DOCKER_LABELS.run]: "run-live", [DOCKER_LABELS.attempt]: "2" });

    const restarted = new DockerLauncher({ installationId, docker, network });
    expect((await restarted.list()).map((w) => w.id).sort()).toEqual([leftover.id, createdOnly, kept].sort());
    const report = await restarted.reconcile({ keep: (w) => w.runId === "run-live" });
    expect(report.removed.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        { id: leftover.id, runId: "run-crashed", attempt: 3 },
        { id: createdOnly, runId: "run-half", attempt: 1 },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(report.kept).toEqual([{ id: kept, runId: "run-live", attempt: 2 }]);
    for (const gone of [leftover.id, createdOnly]) await expect(docker.getContainer(gone).inspect()).rejects.toMatchObject({ statusCode: 404 });
    for (const still of [theirs, unlabelled, kept]) expect((await docker.getContainer(still).inspect()).Id).toBe(still);
  }, 300_000);

  it("does not take a container name held by another installation", async () => {
    const spec = workerSpec(pool, `w-taken-${installationId}`, hub.url);
    const theirs = await bare({ [DOCKER_LABELS.installation]: "someone-else" }, containerName(installationId, spec.workerId));
    await expect(launcher.create(spec)).rejects.toThrow(/cannot create the container for worker w-taken-.*(Conflict|already in use)/);
    expect((await docker.getContainer(theirs).inspect()).Id).toBe(theirs);
  });

  it("refuses a pinned image the daemon does not have", async () => {
    const missing = `azr/worker-cpu@sha256:${"d".repeat(64)}`;
    await expect(launcher.create(workerSpec(dockerPool([missing]), "w-missing", hub.url))).rejects.toThrow(/not on the Docker host and could not be pulled/);
  });
});
