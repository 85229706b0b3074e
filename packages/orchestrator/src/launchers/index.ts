export type {
  LaunchedWorker,
  Launcher,
  LauncherKind,
  LeftoverWorker,
  LogOptions,
  ReconcileOptions,
  ReconcileReport,
  WorkerBackend,
  WorkerObservation,
  WorkerSpec,
  WorkerState,
} from "./types.ts";
export { LauncherError } from "./types.ts";
export { LocalLauncher, type LocalLauncherOptions } from "./local.ts";
export { CONTAINER_DATA_ROOT, DOCKER_LABELS, DockerLauncher, type DockerLauncherOptions } from "./docker.ts";
export {
  KUBERNETES_LABELS,
  KubernetesLauncher,
  jobName,
  kubernetesManifests,
  type KubernetesLauncherOptions,
  type KubernetesManifests,
} from "./kubernetes.ts";
export { createLaunchers, type LauncherSettings } from "./factory.ts";
export { WorkerExitedError, startLaunchedWorker, type StartedLaunchedWorker, type StartLaunchedWorkerOptions } from "./launched-worker.ts";
export { ephemeralWorkerCredentials, type IssuedWorkerToken, type WorkerCredentials } from "./worker-credentials.ts";
