// The kubernetes launcher. No cluster runs here: the manifests are checked as data, and the API
// calls are made against KubeApiServerDouble (a recording test double of the API server).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { poolSchema, type PoolConfig } from "../admin-config.ts";
import { KUBERNETES_LABELS, KubernetesLauncher, jobName, kubernetesManifests, type KubernetesLauncherOptions } from "./kubernetes.ts";
import { KubeApiServerDouble } from "./testing/kube-api-server-double.ts";
import { LauncherError, type WorkerSpec } from "./types.ts";

const image = `registry.example/azr/worker-gpu@sha256:${"b".repeat(64)}`;
const pool = poolSchema.parse({
  name: "h100",
  launcher: "kubernetes",
  images: [image],
  namespace: "azr-runs",
  gpusPerWorker: 2,
  resources: { cpus: 8, memoryGb: 64 },
  nodeSelector: { "nvidia.com/gpu.product": "H100" },
}) as PoolConfig;
const options: KubernetesLauncherOptions = { installationId: "inst-a", dataVolumeClaim: "azr-data" };
const token = "tok-" + "x".repeat(40);

function spec(over: Partial<WorkerSpec> = {}): WorkerSpec {
  return {
    runId: "0b9c6a4e-3f1d-4c2a-9d51-7f0e2a1b3c4d",
    attempt: 2,
    workerId: "w-0b9c6a4e-2",
    hubUrl: "wss://azr.example:8443/worker",
    token,
    backend: "hf",
    model: { name: "qwen2.5-7b", path: "models/qwen2.5-7b" },
    dataRoot: "/srv/azr/data",
    gpus: 2,
    resources: { cpus: 8, memoryGb: 64 },
    pool,
    ...over,
  };
}

describe("kubernetes manifests", () => {
  const { secret, job } = kubernetesManifests(spec(), options);
  const pod = job.spec!.template.spec!;
  const container = pod.containers[0]!;

  it("makes one Job per run attempt, never retried by Kubernetes, collected after it ends", () => {
    expect(job.apiVersion).toBe("batch/v1");
    expect(job.kind).toBe("Job");
    expect(job.metadata!.namespace).toBe("azr-runs");
    expect(job.metadata!.name).toBe(jobName("inst-a", spec().runId, 2));
    expect(job.metadata!.name).toMatch(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
    expect(job.spec!.backoffLimit).toBe(0);
    expect(job.spec!.ttlSecondsAfterFinished).toBe(3600);
    expect(pod.restartPolicy).toBe("Never");
    // Another attempt of the same run is another Job.
    expect(kubernetesManifests(spec({ attempt: 3 }), options).job.metadata!.name).not.toBe(job.metadata!.name);
  });

  it("labels the Job, its pods and its Secret with the installation, run and attempt", () => {
    for (const labels of [job.metadata!.labels!, job.spec!.template.metadata!.labels!, secret.metadata!.labels!]) {
      expect(labels).toMatchObject({
        [KUBERNETES_LABELS.installation]: "inst-a",
        [KUBERNETES_LABELS.run]: spec().runId,
        [KUBERNETES_LABELS.attempt]: "2",
        [KUBERNETES_LABELS.worker]: "w-0b9c6a4e-2",
        [KUBERNETES_LABELS.pool]: "h100",
      });
      for (const v of Object.values(labels)) expect(v).toMatch(/^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/);
    }
    expect(job.metadata!.annotations).toEqual({ "azr.org/model": "qwen2.5-7b", "azr.org/model-path": "models/qwen2.5-7b" });
  });

  it("asks for the pool's GPUs, CPUs and memory, on the pool's nodes", () => {
    expect(container.resources!.limits).toEqual({ cpu: "8", memory: "65536Mi", "nvidia.com/gpu": "2" });
    expect(container.resources!.requests).toEqual(container.resources!.limits);
    expect(pod.nodeSelector).toEqual({ "nvidia.com/gpu.product": "H100" });
    expect(pod.tolerations).toContainEqual({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" });
    const cpuOnly = kubernetesManifests(spec({ gpus: 0 }), options).job.spec!.template.spec!;
    expect(cpuOnly.containers[0]!.resources!.limits!["nvidia.com/gpu"]).toBeUndefined();
    expect(cpuOnly.tolerations).toBeUndefined();
  });

  it("locks the pod down: non-root, read-only root, no capabilities, RuntimeDefault seccomp, no API token", () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } });
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.hostNetwork).toBeUndefined();
    expect(pod.hostPID).toBeUndefined();
    // Writable places: /tmp and the data volume only; no host paths.
    expect(container.volumeMounts!.map((m) => m.mountPath).sort()).toEqual(["/data", "/dev/shm", "/tmp"]);
    expect(pod.volumes!.some((v) => v.hostPath)).toBe(false);
    expect(pod.volumes!.find((v) => v.name === "data")!.persistentVolumeClaim).toEqual({ claimName: "azr-data" });
  });

  it("runs the pool's digest-pinned image and nothing else", () => {
    expect(container.image).toBe(image);
    expect(() => kubernetesManifests(spec({ image: "registry.example/azr/worker-gpu:latest" }), options)).toThrow(/not one of pool h100's allowed images/);
    const unpinned = { ...pool, images: ["registry.example/azr/worker-gpu:latest"] } as PoolConfig;
    expect(() => kubernetesManifests(spec({ pool: unpinned, image: "registry.example/azr/worker-gpu:latest" }), options)).toThrow(/not pinned by digest/);
  });

  it("passes the token only through a Secret referenced by env", () => {
    expect(JSON.stringify(job)).not.toContain(token);
    expect(container.args).toBeUndefined();
    expect(container.command).toBeUndefined();
    const tokenEnv = container.env!.find((e) => e.name === "AZR_WORKER_TOKEN")!;
    expect(tokenEnv.value).toBeUndefined();
    expect(tokenEnv.valueFrom).toEqual({ secretKeyRef: { name: secret.metadata!.name, key: "token" } });
    expect(Buffer.from(secret.data!.token!, "base64").toString()).toBe(token);
    expect(secret.immutable).toBe(true);
    const env = Object.fromEntries(container.env!.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    expect(env).toEqual({
      AZR_WORKER_URL: "wss://azr.example:8443/worker",
      AZR_WORKER_ID: "w-0b9c6a4e-2",
      AZR_WORKER_BACKEND: "hf",
      AZR_WORKER_DATA_ROOT: "/data",
      AZR_WORKER_GRACE: "30",
      OMP_NUM_THREADS: "8",
    });
  });

  it("refuses a spec for another kind of pool", () => {
    const local = poolSchema.parse({ name: "local", launcher: "local" }) as PoolConfig;
    expect(() => kubernetesManifests(spec({ pool: local }), options)).toThrow(LauncherError);
  });
});

describe("kubernetes launcher against the API server test double", () => {
  let api: KubeApiServerDouble;
  let launcher: KubernetesLauncher;
  beforeAll(async () => {
    api = await KubeApiServerDouble.start();
  });
  beforeEach(() => {
    api.requests.length = 0;
    launcher = new KubernetesLauncher({ ...options, kubeConfig: api.kubeConfig(), namespaces: ["azr-runs"] });
  });
  afterAll(async () => {
    await api?.close();
  });

  it("creates the Secret, then the Job, then hands the Secret to the Job; stop deletes both", async () => {
    const launched = await launcher.create(spec());
    const name = jobName("inst-a", spec().runId, 2);
    expect(launched).toMatchObject({ kind: "kubernetes", id: `azr-runs/${name}`, runId: spec().runId, attempt: 2, image });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /api/v1/namespaces/azr-runs/secrets",
      "POST /apis/batch/v1/namespaces/azr-runs/jobs",
      `PUT /api/v1/namespaces/azr-runs/secrets/${name}-token`,
    ]);
    // What reached the API server is the manifest checked above.
    const sentJob = api.requests[1]!.body as { spec: { backoffLimit: number; template: { spec: { containers: Array<{ securityContext: unknown }> } } } };
    expect(sentJob.spec.backoffLimit).toBe(0);
    expect(sentJob.spec.template.spec.containers[0]!.securityContext).toMatchObject({ readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(JSON.stringify(api.requests[1]!.body)).not.toContain(token);
    const job = api.get("jobs", "azr-runs", name)!;
    const owned = api.get("secrets", "azr-runs", `${name}-token`)!;
    expect(owned.metadata.ownerReferences).toEqual([
      { apiVersion: "batch/v1", kind: "Job", name, uid: job.metadata.uid, blockOwnerDeletion: false },
    ]);

    expect(await launcher.observe(launched.id)).toEqual({ state: "pending", exitCode: null });

    api.requests.length = 0;
    await launcher.stop(launched.id, { graceMs: 5000 });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `DELETE /apis/batch/v1/namespaces/azr-runs/jobs/${name}`,
      `DELETE /api/v1/namespaces/azr-runs/secrets/${name}-token`,
    ]);
    expect(api.requests[0]!.query).toMatchObject({ propagationPolicy: "Background", gracePeriodSeconds: "5" });
    expect(api.names("jobs", "azr-runs")).toEqual([]);
    expect(api.names("secrets", "azr-runs")).toEqual([]);
    expect(await launcher.observe(launched.id)).toEqual({ state: "missing", exitCode: null });
    // Stopping again is not an error.
    await launcher.stop(launched.id);
  });

  it("does not leave the token behind when the Job cannot be created", async () => {
    const s = spec({ attempt: 7 });
    const name = jobName("inst-a", s.runId, 7);
    api.put("jobs", { metadata: { name, namespace: "azr-runs" } }); // a name clash: 409 on create
    await expect(launcher.create(s)).rejects.toThrow(/cannot create the job azr-runs\/.*already exists/);
    expect(api.names("secrets", "azr-runs")).toEqual([]);
    await launcher.stop(`azr-runs/${name}`);
  });

  it("observes the pod and the Job's end, and reads the worker's logs", async () => {
    const launched = await launcher.create(spec({ attempt: 4 }));
    const name = launched.id.split("/")[1]!;
    const podName = `${name}-x7k2p`;
    const pod = (state: object) => ({
      metadata: { name: podName, namespace: "azr-runs", labels: { "job-name": name } },
      status: { containerStatuses: [{ name: "worker", state }] },
    });
    api.put("pods", pod({ running: { startedAt: new Date().toISOString() } }));
    api.podLogs.set(podName, "worker INFO connected\nworker INFO loaded model\n");
    expect(await launcher.observe(launched.id)).toEqual({ state: "running", exitCode: null });
    const lines: string[] = [];
    for await (const l of launcher.logs(launched.id)) lines.push(l);
    expect(lines).toEqual(["worker INFO connected", "worker INFO loaded model"]);
    expect(api.requests.at(-1)!.query).toMatchObject({ container: "worker", follow: "false" });

    const job = api.get("jobs", "azr-runs", name)!;
    api.put("jobs", { ...job, status: { failed: 1, conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" }] } });
    api.put("pods", pod({ terminated: { exitCode: 137, reason: "OOMKilled" } }));
    expect(await launcher.observe(launched.id)).toEqual({
      state: "exited",
      exitCode: 137,
      reason: "BackoffLimitExceeded: Job has reached the specified backoff limit: OOMKilled",
    });
    await launcher.stop(launched.id);
  });

  it("reconcile deletes this installation's leftovers and their tokens, nothing else", async () => {
    const label = (inst: string, run: string) => ({
      [KUBERNETES_LABELS.installation]: inst,
      [KUBERNETES_LABELS.run]: run,
      [KUBERNETES_LABELS.attempt]: "1",
    });
    // Left by a previous server process of this installation.
    api.put("jobs", { metadata: { name: "azr-old-a1-11111111", namespace: "azr-runs", labels: label("inst-a", "old") } });
    api.put("secrets", { metadata: { name: "azr-old-a1-11111111-token", namespace: "azr-runs", labels: label("inst-a", "old") } });
    // A token whose Job was never created (crash in between).
    api.put("secrets", { metadata: { name: "azr-lost-a1-22222222-token", namespace: "azr-runs", labels: label("inst-a", "lost") } });
    // A run the caller still owns.
    api.put("jobs", { metadata: { name: "azr-live-a1-33333333", namespace: "azr-runs", labels: label("inst-a", "live") } });
    // Another installation's, sharing the namespace.
    api.put("jobs", { metadata: { name: "azr-other-a1-44444444", namespace: "azr-runs", labels: label("inst-b", "other") } });
    api.put("secrets", { metadata: { name: "azr-other-a1-44444444-token", namespace: "azr-runs", labels: label("inst-b", "other") } });
    // Started by this launcher instance: never reconciled away.
    const mine = await launcher.create(spec({ attempt: 9 }));

    const report = await launcher.reconcile({ keep: (w) => w.runId === "live" });
    expect(report.removed).toEqual([{ id: "azr-runs/azr-old-a1-11111111", runId: "old", attempt: 1 }]);
    expect(report.kept.map((w) => w.id).sort()).toEqual(["azr-runs/azr-live-a1-33333333", mine.id].sort());
    expect(api.names("jobs", "azr-runs")).toEqual(["azr-live-a1-33333333", "azr-other-a1-44444444", mine.id.split("/")[1]].sort());
    expect(api.names("secrets", "azr-runs")).toEqual(["azr-other-a1-44444444-token", `${mine.id.split("/")[1]}-token`].sort());
    const selectors = api.requests.filter((r) => r.method === "GET" && !r.path.includes("/log")).map((r) => r.query.labelSelector);
    expect(selectors).toContain("azr.org/installation=inst-a");
    await launcher.stop(mine.id);
    await launcher.stop("azr-runs/azr-live-a1-33333333");
  });
});
