import { createHash } from "node:crypto";
import { PassThrough } from "node:stream";
import { ApiException, BatchV1Api, CoreV1Api, KubeConfig, Log, type V1Job, type V1Pod, type V1Secret } from "@kubernetes/client-node";
import { LineSplitter } from "./log-lines.ts";
import { checkSpec, chooseImage, workerEnvironment } from "./spec.ts";
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

/** Labels on every Job, its pods and its token Secret; reconcile selects by the first. */
export const KUBERNETES_LABELS = {
  installation: "azr.org/installation",
  run: "azr.org/run",
  attempt: "azr.org/attempt",
  worker: "azr.org/worker",
  pool: "azr.org/pool",
  managedBy: "app.kubernetes.io/managed-by",
} as const;
const MANAGED_BY = "azr-orchestrator";
const CONTAINER = "worker";
const DATA_ROOT = "/data";
const TOKEN_KEY = "token";

export interface KubernetesLauncherOptions {
  /** Names this control-plane installation; reconcile touches nothing without its label. */
  installationId: string;
  /** The cluster to use (default: KubeConfig.loadFromDefault(): $KUBECONFIG, ~/.kube/config or
   * the in-cluster service account). */
  kubeConfig?: KubeConfig;
  /** The PersistentVolumeClaim (in the pool's namespace) holding models and checkpoints,
   * mounted at /data; the control plane must see the same volume. */
  dataVolumeClaim: string;
  /** Namespaces reconcile looks in besides those of the Jobs this instance created (normally
   * the namespaces of all kubernetes pools). */
  namespaces?: string[];
  /** A finished Job (and through its owner reference the token Secret) is deleted after this
   * (default 3600 s), so a failed worker's logs can still be read for a while. */
  ttlSecondsAfterFinished?: number;
  /** Hard limit on a worker's lifetime, if any. */
  activeDeadlineSeconds?: number;
  /** The uid and gid the worker runs as (default 10001, the worker image's user). */
  runAsUser?: number;
  defaultCpus?: number;
  defaultMemoryGb?: number;
  /** Size of the /tmp emptyDir (default 512 MB). */
  tmpSizeMb?: number;
  /** A service account for the pod; none by default, and its token is never mounted. */
  serviceAccountName?: string;
  imagePullSecrets?: string[];
}

export interface KubernetesManifests {
  secret: V1Secret;
  job: V1Job;
}

/** Object names must be DNS labels (lowercase alphanumerics and '-', at most 63): the run id is
 * folded into that, and a hash of the exact ids keeps two ids that fold alike apart. */
export function jobName(installationId: string, runId: string, attempt: number): string {
  const slug = runId.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 36).replace(/-+$/, "");
  const hash = createHash("sha256").update(`${installationId}\0${runId}\0${attempt}`).digest("hex").slice(0, 8);
  return `azr-${slug}-a${attempt}-${hash}`;
}

function quantityGi(gb: number): string {
  return `${Math.round(gb * 1024)}Mi`;
}

/**
 * The Secret holding the attempt's token and the Job running its worker. The token is only in
 * the Secret (referenced by the container's env); the Job's own manifest carries none.
 */
export function kubernetesManifests(spec: WorkerSpec, options: KubernetesLauncherOptions, imageRef?: string): KubernetesManifests {
  const pool = checkSpec("kubernetes", spec);
  const image = imageRef ?? chooseImage("kubernetes", pool, spec.image).ref;
  const name = jobName(options.installationId, spec.runId, spec.attempt);
  const namespace = pool.namespace;
  const uid = options.runAsUser ?? 10001;
  const labels: Record<string, string> = {
    [KUBERNETES_LABELS.installation]: options.installationId,
    [KUBERNETES_LABELS.run]: spec.runId,
    [KUBERNETES_LABELS.attempt]: String(spec.attempt),
    [KUBERNETES_LABELS.worker]: spec.workerId,
    [KUBERNETES_LABELS.pool]: pool.name,
    [KUBERNETES_LABELS.managedBy]: MANAGED_BY,
  };
  const annotations: Record<string, string> = {
    "azr.org/model": spec.model.name,
    ...(spec.model.path ? { "azr.org/model-path": spec.model.path } : {}),
  };
  const secretName = `${name}-token`;
  const { AZR_WORKER_TOKEN: _token, ...plainEnv } = workerEnvironment(spec, DATA_ROOT);
  const cpu = String(spec.resources.cpus ?? options.defaultCpus ?? 2);
  const memory = quantityGi(spec.resources.memoryGb ?? options.defaultMemoryGb ?? 8);
  const amounts: Record<string, string> = { cpu, memory, ...(spec.gpus > 0 ? { "nvidia.com/gpu": String(spec.gpus) } : {}) };
  const dropAll = { drop: ["ALL"] };
  const seccomp = { type: "RuntimeDefault" };

  const secret: V1Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: secretName, namespace, labels },
    type: "Opaque",
    immutable: true,
    data: { [TOKEN_KEY]: Buffer.from(spec.token).toString("base64") },
  };
  const job: V1Job = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace, labels, annotations },
    spec: {
      // A failed worker is relaunched by the orchestrator (from the last checkpoint, as a new
      // attempt with a new token), never by Kubernetes behind its back.
      backoffLimit: 0,
      ttlSecondsAfterFinished: options.ttlSecondsAfterFinished ?? 3600,
      ...(options.activeDeadlineSeconds ? { activeDeadlineSeconds: options.activeDeadlineSeconds } : {}),
      template: {
        metadata: { labels, annotations },
        spec: {
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          ...(options.serviceAccountName ? { serviceAccountName: options.serviceAccountName } : {}),
          enableServiceLinks: false,
          ...(Object.keys(pool.nodeSelector).length ? { nodeSelector: pool.nodeSelector } : {}),
          ...(options.imagePullSecrets?.length ? { imagePullSecrets: options.imagePullSecrets.map((n) => ({ name: n })) } : {}),
          // GPU nodes are commonly tainted so that only pods asking for GPUs land there.
          ...(spec.gpus > 0 ? { tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }] } : {}),
          securityContext: { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: seccomp },
          containers: [
            {
              name: CONTAINER,
              // Pinned by digest (checked above): the kubelet pulls exactly that content.
              image,
              imagePullPolicy: "IfNotPresent",
              env: [
                { name: "AZR_WORKER_TOKEN", valueFrom: { secretKeyRef: { name: secretName, key: TOKEN_KEY } } },
                ...Object.entries(plainEnv).map(([k, v]) => ({ name: k, value: v })),
              ],
              resources: { requests: amounts, limits: amounts },
              securityContext: {
                runAsNonRoot: true,
                runAsUser: uid,
                runAsGroup: uid,
                privileged: false,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: dropAll,
                seccompProfile: seccomp,
              },
              volumeMounts: [
                { name: "tmp", mountPath: "/tmp" },
                { name: "data", mountPath: DATA_ROOT },
                ...(spec.gpus > 0 ? [{ name: "shm", mountPath: "/dev/shm" }] : []),
              ],
            },
          ],
          volumes: [
            { name: "tmp", emptyDir: { sizeLimit: `${options.tmpSizeMb ?? 512}Mi` } },
            { name: "data", persistentVolumeClaim: { claimName: options.dataVolumeClaim } },
            // NCCL and torch's shared-memory tensors outgrow the runtime's 64 MB /dev/shm.
            ...(spec.gpus > 0 ? [{ name: "shm", emptyDir: { medium: "Memory", sizeLimit: "1Gi" } }] : []),
          ],
        },
      },
    },
  };
  return { secret, job };
}

function codeOf(e: unknown): number | undefined {
  return e instanceof ApiException ? e.code : undefined;
}

/** The API server's own words (its Status message) rather than the client's dump of the whole
 * response. */
function messageOf(e: unknown): string {
  if (e instanceof ApiException) {
    try {
      const status = (typeof e.body === "string" ? JSON.parse(e.body) : e.body) as { message?: string; reason?: string };
      if (status?.message) return `${e.code} ${status.reason ?? ""}: ${status.message}`.replace(" :", ":");
    } catch {
      // not a Status body: fall through
    }
    return `HTTP ${e.code}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * One Kubernetes Job per run attempt (backoffLimit 0: the orchestrator decides about retries),
 * its token in a Secret owned by the Job so that it goes when the Job does. The handle (`id`) is
 * "<namespace>/<job name>".
 */
export class KubernetesLauncher implements Launcher {
  readonly kind = "kubernetes" as const;
  private readonly kc: KubeConfig;
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;
  private readonly mine = new Set<string>();
  private readonly namespaces: Set<string>;

  constructor(private readonly options: KubernetesLauncherOptions) {
    if (!/^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/.test(options.installationId))
      throw new LauncherError("kubernetes", `installationId ${JSON.stringify(options.installationId)} must be a valid label value (1-63 letters, digits, '.', '_', '-')`);
    this.kc = options.kubeConfig ?? loadDefaultKubeConfig();
    this.batch = this.kc.makeApiClient(BatchV1Api);
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.namespaces = new Set(options.namespaces ?? []);
  }

  async create(spec: WorkerSpec): Promise<LaunchedWorker> {
    const { secret, job } = kubernetesManifests(spec, this.options);
    const namespace = job.metadata!.namespace!;
    const name = job.metadata!.name!;
    const fail = (what: string, e: unknown): never => {
      throw new LauncherError("kubernetes", `${what} ${namespace}/${name}: ${messageOf(e)}`, { cause: e });
    };
    this.namespaces.add(namespace);
    const created = await this.core.createNamespacedSecret({ namespace, body: secret }).catch((e: unknown) => fail("cannot create the token secret of", e));
    let createdJob: V1Job;
    try {
      createdJob = await this.batch.createNamespacedJob({ namespace, body: job });
    } catch (e) {
      await this.core.deleteNamespacedSecret({ namespace, name: secret.metadata!.name! }).catch(() => undefined);
      return fail("cannot create the job", e);
    }
    this.mine.add(`${namespace}/${name}`);
    // Owned by the Job from now on: deleting the Job (by stop, reconcile or its TTL) deletes it.
    const owned: V1Secret = {
      ...created,
      metadata: {
        ...created.metadata,
        ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name, uid: createdJob.metadata!.uid!, blockOwnerDeletion: false }],
      },
    };
    await this.core.replaceNamespacedSecret({ namespace, name: secret.metadata!.name!, body: owned }).catch((e: unknown) => fail("cannot hand the token secret to", e));
    return {
      kind: "kubernetes",
      id: `${namespace}/${name}`,
      workerId: spec.workerId,
      runId: spec.runId,
      attempt: spec.attempt,
      startedAt: new Date(),
      image: job.spec!.template.spec!.containers[0]!.image!,
    };
  }

  async observe(id: string): Promise<WorkerObservation> {
    const { namespace, name } = splitId(id);
    let job: V1Job;
    try {
      job = await this.batch.readNamespacedJobStatus({ namespace, name });
    } catch (e) {
      if (codeOf(e) === 404) return { state: "missing", exitCode: null };
      throw new LauncherError("kubernetes", `cannot read job ${id}: ${messageOf(e)}`, { cause: e });
    }
    const conditions = job.status?.conditions ?? [];
    const ended = conditions.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
    if (ended) {
      const pod = await this.pod(namespace, name);
      const terminated = pod?.status?.containerStatuses?.find((c) => c.name === CONTAINER)?.state?.terminated;
      const exitCode = terminated?.exitCode ?? (ended.type === "Complete" ? 0 : null);
      const reason = ended.type === "Failed" ? [ended.reason, ended.message, terminated?.reason].filter(Boolean).join(": ") : undefined;
      return { state: "exited", exitCode, ...(reason ? { reason } : {}) };
    }
    const pod = await this.pod(namespace, name);
    const running = pod?.status?.containerStatuses?.find((c) => c.name === CONTAINER)?.state?.running;
    return { state: running ? "running" : "pending", exitCode: null };
  }

  /** The Job's newest pod (with backoffLimit 0 there is one). */
  private async pod(namespace: string, jobName: string): Promise<V1Pod | undefined> {
    const pods = await this.core.listNamespacedPod({ namespace, labelSelector: `job-name=${jobName}` });
    return pods.items.sort((a, b) => String(b.metadata?.creationTimestamp ?? "").localeCompare(String(a.metadata?.creationTimestamp ?? "")))[0];
  }

  async *logs(id: string, options: LogOptions = {}): AsyncGenerator<string> {
    const { namespace, name } = splitId(id);
    const pod = await this.pod(namespace, name);
    if (!pod?.metadata?.name) throw new LauncherError("kubernetes", `job ${id} has no pod (yet)`);
    const sink = new PassThrough();
    const controller = await new Log(this.kc).log(namespace, pod.metadata.name, CONTAINER, sink, { follow: options.follow ?? false });
    const lines = new LineSplitter();
    try {
      for await (const chunk of sink as AsyncIterable<Buffer>) yield* lines.feed(chunk);
      yield* lines.end();
    } finally {
      controller.abort();
    }
  }

  async stop(id: string, options: { graceMs?: number } = {}): Promise<void> {
    const { namespace, name } = splitId(id);
    const gracePeriodSeconds = Math.max(1, Math.ceil((options.graceMs ?? 10_000) / 1000));
    // Background: the Job goes now, its pods (SIGTERM, then SIGKILL after the grace period) and
    // its Secret are collected after it.
    await this.batch
      .deleteNamespacedJob({ namespace, name, propagationPolicy: "Background", gracePeriodSeconds })
      .catch((e: unknown) => {
        if (codeOf(e) !== 404) throw new LauncherError("kubernetes", `cannot delete job ${id}: ${messageOf(e)}`, { cause: e });
      });
    // Deleted at once too: the token must not outlive the attempt by the collector's delay.
    await this.core.deleteNamespacedSecret({ namespace, name: `${name}-token` }).catch((e: unknown) => {
      if (codeOf(e) !== 404) throw new LauncherError("kubernetes", `cannot delete secret ${namespace}/${name}-token: ${messageOf(e)}`, { cause: e });
    });
    this.mine.delete(id);
  }

  async reconcile(options: ReconcileOptions = {}): Promise<ReconcileReport> {
    const report: ReconcileReport = { removed: [], kept: [] };
    const labelSelector = `${KUBERNETES_LABELS.installation}=${this.options.installationId}`;
    for (const namespace of this.namespaces) {
      const jobs = await this.batch.listNamespacedJob({ namespace, labelSelector });
      const names = new Set<string>();
      for (const job of jobs.items) {
        const labels = job.metadata?.labels ?? {};
        // Selected by the server already; checked again because deleting another installation's
        // Job is the one mistake reconcile must never make.
        if (labels[KUBERNETES_LABELS.installation] !== this.options.installationId || !job.metadata?.name) continue;
        names.add(job.metadata.name);
        const attempt = Number(labels[KUBERNETES_LABELS.attempt]);
        const w: LeftoverWorker = { id: `${namespace}/${job.metadata.name}`, runId: labels[KUBERNETES_LABELS.run] ?? null, attempt: Number.isInteger(attempt) ? attempt : null };
        if (this.mine.has(w.id) || options.keep?.(w)) {
          report.kept.push(w);
          continue;
        }
        await this.stop(w.id, { graceMs: 1000 });
        report.removed.push(w);
      }
      // A crash between creating a Secret and its Job leaves a token nobody owns.
      const secrets = await this.core.listNamespacedSecret({ namespace, labelSelector });
      for (const s of secrets.items) {
        const secretName = s.metadata?.name;
        if (!secretName || s.metadata?.labels?.[KUBERNETES_LABELS.installation] !== this.options.installationId) continue;
        const job = secretName.replace(/-token$/, "");
        if (names.has(job) || this.mine.has(`${namespace}/${job}`)) continue;
        await this.core.deleteNamespacedSecret({ namespace, name: secretName }).catch((e: unknown) => {
          if (codeOf(e) !== 404) throw e;
        });
      }
    }
    return report;
  }
}

function splitId(id: string): { namespace: string; name: string } {
  const [namespace, name, ...rest] = id.split("/");
  if (!namespace || !name || rest.length) throw new LauncherError("kubernetes", `worker id ${JSON.stringify(id)} is not <namespace>/<job>`);
  return { namespace, name };
}

function loadDefaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}
