import type { PoolConfig } from "../admin-config.ts";
import { DockerLauncher, type DockerLauncherOptions } from "./docker.ts";
import { KubernetesLauncher, type KubernetesLauncherOptions } from "./kubernetes.ts";
import { LocalLauncher, type LocalLauncherOptions } from "./local.ts";
import { LauncherError, type Launcher } from "./types.ts";

/** What the server knows besides the pools: its installation id and per-kind settings. */
export interface LauncherSettings {
  installationId: string;
  local?: LocalLauncherOptions;
  docker?: Omit<DockerLauncherOptions, "installationId" | "socketPath" | "docker">;
  /** Needed as soon as a kubernetes pool exists (the data volume claim has no default). */
  kubernetes?: Omit<KubernetesLauncherOptions, "installationId" | "namespaces">;
}

/**
 * The launcher of every pool, by pool name. Pools share a launcher where they share what it
 * drives: all local pools one (it hands out the host's GPUs), docker pools one per daemon socket,
 * all kubernetes pools one (reconcile then covers every pool's namespace).
 */
export function createLaunchers(pools: readonly PoolConfig[], settings: LauncherSettings): Map<string, Launcher> {
  const byPool = new Map<string, Launcher>();
  let local: LocalLauncher | undefined;
  const dockers = new Map<string, DockerLauncher>();
  let kube: KubernetesLauncher | undefined;
  const namespaces = [...new Set(pools.flatMap((p) => (p.launcher === "kubernetes" ? [p.namespace] : [])))];
  for (const pool of pools) {
    switch (pool.launcher) {
      case "local":
        byPool.set(pool.name, (local ??= new LocalLauncher(settings.local)));
        break;
      case "docker": {
        let d = dockers.get(pool.socketPath);
        if (!d) dockers.set(pool.socketPath, (d = new DockerLauncher({ ...settings.docker, installationId: settings.installationId, socketPath: pool.socketPath })));
        byPool.set(pool.name, d);
        break;
      }
      case "kubernetes":
        if (!settings.kubernetes)
          throw new LauncherError("kubernetes", `pool ${pool.name} needs the server's kubernetes settings (at least dataVolumeClaim)`);
        byPool.set(pool.name, (kube ??= new KubernetesLauncher({ ...settings.kubernetes, installationId: settings.installationId, namespaces })));
        break;
    }
  }
  return byPool;
}
