import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";

// TEST DOUBLE of the Kubernetes API server, for tests only: no cluster can run here. It keeps
// Secrets, Jobs and Pods in memory, answers the REST calls the kubernetes launcher makes the way
// the real API server does (paths, status codes, Status bodies, equality label selectors), and
// records every request so tests can check what was sent. It runs no controllers: a test that
// wants a pod or a finished Job puts it there itself with `put`.

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

type Obj = { metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown }; [k: string]: unknown };

/** Groups: namespace, plural, name, subresource. */
const ROUTES: RegExp[] = [
  /^\/api\/v1\/namespaces\/([^/]+)\/(secrets|pods)(?:\/([^/]+))?(?:\/(status|log))?$/,
  /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/(jobs)(?:\/([^/]+))?(?:\/(status))?$/,
];

export class KubeApiServerDouble {
  readonly requests: RecordedRequest[] = [];
  /** "<plural>/<namespace>/<name>" → object */
  private readonly store = new Map<string, Obj>();
  /** Pod name → its container's log text. */
  readonly podLogs = new Map<string, string>();
  private version = 1;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<KubeApiServerDouble> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const double = new KubeApiServerDouble(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on("request", (req, res) => void double.handle(req, res));
    return double;
  }

  /** A client configuration pointing at this double. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "double", server: this.url, skipTLSVerify: true }],
      users: [{ name: "tester", token: "test-double-token" }],
      contexts: [{ name: "double", cluster: "double", user: "tester" }],
      currentContext: "double",
    });
    return kc;
  }

  /** Stores an object as if a controller (or another client) had made it. */
  put(plural: "secrets" | "jobs" | "pods", obj: Obj): void {
    const ns = obj.metadata.namespace ?? "default";
    this.store.set(`${plural}/${ns}/${obj.metadata.name}`, this.stamp({ ...obj, metadata: { ...obj.metadata, namespace: ns } }));
  }

  get(plural: "secrets" | "jobs" | "pods", namespace: string, name: string): Obj | undefined {
    return this.store.get(`${plural}/${namespace}/${name}`);
  }

  names(plural: "secrets" | "jobs" | "pods", namespace: string): string[] {
    const prefix = `${plural}/${namespace}/`;
    return [...this.store.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)).sort();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private stamp(obj: Obj): Obj {
    const m = obj.metadata;
    return {
      ...obj,
      metadata: {
        uid: randomUUID(),
        creationTimestamp: new Date(Date.now() + this.version).toISOString(),
        ...m,
        resourceVersion: String(this.version++),
      },
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? "/", this.url);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      return this.status(res, 400, "BadRequest", "body is not JSON");
    }
    this.requests.push({ method: req.method ?? "", path: u.pathname, query: Object.fromEntries(u.searchParams), body });
    if (req.headers.authorization !== "Bearer test-double-token") return this.status(res, 401, "Unauthorized", "no or wrong bearer token");

    const m = ROUTES.map((r) => r.exec(u.pathname)).find(Boolean);
    if (!m) return this.status(res, 404, "NotFound", `no route ${u.pathname}`);
    const [, ns, plural, name, sub] = m as unknown as [string, string, string, string | undefined, string | undefined];
    const key = `${plural}/${ns}/${name}`;

    if (sub === "log") {
      const log = this.podLogs.get(name!);
      if (!this.store.has(key) || log === undefined) return this.status(res, 404, "NotFound", `pods "${name}" not found`);
      if (u.searchParams.get("container") !== "worker") return this.status(res, 400, "BadRequest", "container must be named");
      res.writeHead(200, { "content-type": "text/plain" }).end(log);
      return;
    }
    switch (req.method) {
      case "GET": {
        if (name) {
          const obj = this.store.get(key);
          return obj ? this.json(res, 200, obj) : this.status(res, 404, "NotFound", `${plural} "${name}" not found`);
        }
        let match: (o: Obj) => boolean;
        try {
          match = selector(u.searchParams.get("labelSelector") ?? "");
        } catch (e) {
          return this.status(res, 400, "BadRequest", (e as Error).message);
        }
        const items = [...this.store.entries()].filter(([k, o]) => k.startsWith(`${plural}/${ns}/`) && match(o)).map(([, o]) => o);
        return this.json(res, 200, { apiVersion: plural === "jobs" ? "batch/v1" : "v1", kind: "List", metadata: {}, items });
      }
      case "POST": {
        const obj = body as Obj;
        if (!obj?.metadata?.name) return this.status(res, 422, "Invalid", "metadata.name is required");
        const k = `${plural}/${ns}/${obj.metadata.name}`;
        if (this.store.has(k)) return this.status(res, 409, "AlreadyExists", `${plural} "${obj.metadata.name}" already exists`);
        const stored = this.stamp({ ...obj, metadata: { ...obj.metadata, namespace: ns } });
        this.store.set(k, stored);
        return this.json(res, 201, stored);
      }
      case "PUT": {
        const old = this.store.get(key);
        if (!old) return this.status(res, 404, "NotFound", `${plural} "${name}" not found`);
        const obj = body as Obj;
        if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== old.metadata.resourceVersion)
          return this.status(res, 409, "Conflict", "the object has been modified");
        if (old.immutable === true && JSON.stringify(old.data) !== JSON.stringify(obj.data))
          return this.status(res, 422, "Invalid", "field is immutable when `immutable` is set");
        const stored = this.stamp({ ...obj, metadata: { ...obj.metadata, uid: old.metadata.uid } });
        this.store.set(key, stored);
        return this.json(res, 200, stored);
      }
      case "DELETE": {
        const old = this.store.get(key);
        if (!old) return this.status(res, 404, "NotFound", `${plural} "${name}" not found`);
        this.store.delete(key);
        return this.json(res, 200, { apiVersion: "v1", kind: "Status", metadata: {}, status: "Success" });
      }
      default:
        return this.status(res, 405, "MethodNotAllowed", `${req.method} is not supported by the double`);
    }
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(body));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string): void {
    this.json(res, code, { apiVersion: "v1", kind: "Status", metadata: {}, status: "Failure", message, reason, code });
  }
}

/** Equality-based label selectors (`a=b,c=d`), which is all the launcher uses; anything else is
 * refused rather than matched loosely. */
function selector(text: string): (o: Obj) => boolean {
  const terms = text
    ? text.split(",").map((t) => {
        const m = /^([A-Za-z0-9./_-]+)=([A-Za-z0-9._-]*)$/.exec(t);
        if (!m) throw new Error(`unsupported label selector term ${JSON.stringify(t)} (the double supports key=value)`);
        return [m[1]!, m[2]!] as const;
      })
    : [];
  return (o) => terms.every(([k, v]) => o.metadata.labels?.[k] === v);
}
