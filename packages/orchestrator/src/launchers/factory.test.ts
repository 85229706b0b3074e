import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { adminConfigSchema } from "../admin-config.ts";
import { DockerLauncher } from "./docker.ts";
import { createLaunchers } from "./factory.ts";
import { KubernetesLauncher } from "./kubernetes.ts";
import { LocalLauncher } from "./local.ts";
import { KubeApiServerDouble } from "./testing/kube-api-server-double.ts";
import { LauncherError } from "./types.ts";

const image = `azr/worker-cpu@sha256:${"e".repeat(64)}`;
const config = adminConfigSchema.parse({
  pools: [
    { name: "local", launcher: "local" },
    { name: "local-big", launcher: "local", concurrency: 2 },
    { name: "docker-a", launcher: "docker", images: [image] },
    { name: "docker-b", launcher: "docker", images: [image] },
    { name: "docker-remote", launcher: "docker", images: [image], socketPath: "/run/other-docker.sock" },
    { name: "k8s-a", launcher: "kubernetes", images: [image], namespace: "team-a" },
    { name: "k8s-b", launcher: "kubernetes", images: [image], namespace: "team-b" },
  ],
  models: { tiny: { backend: "tiny", source: { kind: "random-init" } } },
});

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: "https://127.0.0.1:6443" }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

describe("createLaunchers", () => {
  const launchers = createLaunchers(config.pools, {
    installationId: "inst-f",
    kubernetes: { dataVolumeClaim: "azr-data", kubeConfig: kubeConfig() },
  });

  it("gives every pool a launcher of its kind", () => {
    expect([...launchers.keys()]).toEqual(config.pools.map((p) => p.name));
    for (const pool of config.pools) expect(launchers.get(pool.name)!.kind).toBe(pool.launcher);
    expect(launchers.get("local")).toBeInstanceOf(LocalLauncher);
    expect(launchers.get("docker-a")).toBeInstanceOf(DockerLauncher);
    expect(launchers.get("k8s-a")).toBeInstanceOf(KubernetesLauncher);
  });

  it("shares a launcher between pools that drive the same thing", () => {
    expect(launchers.get("local")).toBe(launchers.get("local-big"));
    expect(launchers.get("docker-a")).toBe(launchers.get("docker-b"));
    expect(launchers.get("docker-remote")).not.toBe(launchers.get("docker-a"));
    expect(launchers.get("k8s-a")).toBe(launchers.get("k8s-b"));
  });

  it("refuses kubernetes pools without the server's kubernetes settings", () => {
    expect(() => createLaunchers(config.pools, { installationId: "inst-f" })).toThrow(LauncherError);
    expect(() => createLaunchers(config.pools, { installationId: "inst-f" })).toThrow(/pool k8s-a needs the server's kubernetes settings/);
  });

  it("lets the one kubernetes launcher reconcile every kubernetes pool's namespace", async () => {
    const api = await KubeApiServerDouble.start();
    try {
      const kube = createLaunchers(config.pools, { installationId: "inst-f", kubernetes: { dataVolumeClaim: "d", kubeConfig: api.kubeConfig() } }).get("k8s-a")!;
      for (const namespace of ["team-a", "team-b"])
        api.put("jobs", { metadata: { name: `azr-old-${namespace}`, namespace, labels: { "azr.org/installation": "inst-f", "azr.org/run": "r", "azr.org/attempt": "1" } } });
      const report = await kube.reconcile();
      expect(report.removed.map((w) => w.id).sort()).toEqual(["team-a/azr-old-team-a", "team-b/azr-old-team-b"]);
    } finally {
      await api.close();
    }
  });
});
