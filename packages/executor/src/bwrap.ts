import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SandboxUnavailableError } from "./backend.ts";
import type { SandboxBackend } from "./backend.ts";
import type { RunnerChannel } from "./channel.ts";
import { pythonCommand } from "./runner-source.ts";
import { buildSeccompFilter, seccompSupported } from "./seccomp.ts";
import { DEBIAN_DIST_PACKAGES, checkSystemModules, systemModulesEnv, type SystemModule } from "./system-modules.ts";

export interface BwrapOptions {
  /** Debian's interpreter (not whatever python3 is first on PATH). */
  python?: string;
  bwrap?: string;
  setpriv?: string;
  /** When the pool runs as root, runner `slot` runs as host uid `uidBase + slot` (see design.md:
   * bwrap started by root maps the sandbox to host root, where RLIMIT_NPROC is not enforced). */
  uidBase?: number;
  /** Size of each sandbox's private /tmp (tmpfs), bytes. */
  tmpBytes?: number;
  /** Install the seccomp filter (x86_64 only). */
  seccomp?: boolean;
  /** PYTHONHASHSEED inside the sandbox; a fixed value keeps set/dict order identical everywhere. */
  hashSeed?: number;
  /** Scoring pools only (see system-modules.ts): bind Debian's dist-packages read-only and
   * import these modules in the runner at start. Never set for pools that run model programs. */
  systemModules?: readonly SystemModule[];
}

interface PythonLayout {
  executable: string;
  stdlib: string;
  libDirs: string[];
  version: string;
}

const LAYOUT_PROBE = `
import sys, sysconfig, os, json
multi = sysconfig.get_config_var("MULTIARCH") or ""
libs = [d for d in ("/usr/lib/" + multi if multi else "", "/usr/lib64", "/lib64") if d and os.path.isdir(d)]
print(json.dumps({"executable": os.path.realpath(sys.executable), "stdlib": sysconfig.get_paths()["stdlib"],
                  "libDirs": libs, "version": sys.version.split()[0]}))
`;

export const DEFAULT_PYTHON = "/usr/bin/python3";
export const DEFAULT_UID_BASE = 2_000_100_000;

function which(cmd: string): string | undefined {
  if (cmd.includes("/")) return existsSync(cmd) ? cmd : undefined;
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    const p = path.join(dir, cmd);
    if (existsSync(p)) return p;
  }
  for (const dir of ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]) {
    const p = path.join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export class BwrapBackend implements SandboxBackend {
  readonly name = "bwrap" as const;
  private readonly opts: Required<Omit<BwrapOptions, "systemModules">>;
  private readonly systemModules: SystemModule[];
  private layout: PythonLayout | undefined;
  private seccompFile: string | undefined;
  private seccompDir: string | undefined;
  private bwrapPath = "";
  private setprivPath: string | undefined;
  private readonly asRoot = process.getuid?.() === 0;

  constructor(options: BwrapOptions = {}) {
    this.opts = {
      python: options.python ?? DEFAULT_PYTHON,
      bwrap: options.bwrap ?? "bwrap",
      setpriv: options.setpriv ?? "setpriv",
      uidBase: options.uidBase ?? DEFAULT_UID_BASE,
      tmpBytes: options.tmpBytes ?? 64 * 1024 * 1024,
      seccomp: options.seccomp ?? seccompSupported(),
      hashSeed: options.hashSeed ?? 0,
    };
    this.systemModules = checkSystemModules(options.systemModules);
  }

  async prepare(): Promise<void> {
    const bwrap = which(this.opts.bwrap);
    if (!bwrap) {
      throw new SandboxUnavailableError("bubblewrap (bwrap) is not installed", "sudo apt-get install bubblewrap");
    }
    this.bwrapPath = bwrap;
    if (this.asRoot) {
      this.setprivPath = which(this.opts.setpriv);
      if (!this.setprivPath) {
        throw new SandboxUnavailableError(
          "setpriv is needed to drop root before entering the sandbox",
          "sudo apt-get install util-linux",
        );
      }
    }
    if (this.systemModules.length > 0 && !existsSync(DEBIAN_DIST_PACKAGES)) {
      throw new SandboxUnavailableError(`${DEBIAN_DIST_PACKAGES} does not exist (needed for ${this.systemModules.join(", ")})`, "sudo apt-get install python3-sympy");
    }
    if (!existsSync(this.opts.python)) {
      throw new SandboxUnavailableError(`Python interpreter ${this.opts.python} not found`, "sudo apt-get install python3");
    }
    try {
      const out = execFileSync(this.opts.python, ["-s", "-S", "-P", "-c", LAYOUT_PROBE], { encoding: "utf8", timeout: 15_000 });
      this.layout = JSON.parse(out) as PythonLayout;
    } catch (e) {
      throw new SandboxUnavailableError(
        `cannot inspect ${this.opts.python}: ${(e as Error).message}`,
        "install Debian's python3 (sudo apt-get install python3)",
      );
    }
    if (this.opts.seccomp) {
      if (!seccompSupported()) {
        throw new SandboxUnavailableError(`seccomp filter not available on ${process.arch}`, "set bwrap.seccomp to false");
      }
      this.seccompDir = mkdtempSync(path.join(tmpdir(), "azr-seccomp-"));
      this.seccompFile = path.join(this.seccompDir, "filter.bpf");
      writeFileSync(this.seccompFile, buildSeccompFilter(), { mode: 0o600 });
    }
  }

  describe(): string {
    const who = this.asRoot ? `host uid ${this.opts.uidBase}+slot via setpriv` : `host uid ${process.getuid?.()}`;
    return (
      `bubblewrap: new user/pid/net/ipc/uts/cgroup namespaces, sandbox uid 65534 (${who}), all capabilities dropped, ` +
      `read-only ${this.layout?.executable ?? "python"} + stdlib + shared libraries, private ${this.opts.tmpBytes >> 20} MiB /tmp, ` +
      `cleared environment, die-with-parent${this.opts.seccomp ? ", seccomp filter" : ""}` +
      (this.systemModules.length ? `; scoring pool: read-only ${DEBIAN_DIST_PACKAGES}, preloaded ${this.systemModules.join(", ")}` : "")
    );
  }

  /** The full command line for runner `slot` (exported for tests and `doctor`). */
  commandFor(slot: number, seccompFd?: number): string[] {
    const layout = this.layout;
    if (!layout) throw new Error("BwrapBackend.prepare() was not called");
    const args: string[] = [];
    if (this.asRoot && this.setprivPath) {
      const uid = String(this.opts.uidBase + slot);
      args.push(this.setprivPath, `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--");
    }
    args.push(
      this.bwrapPath,
      "--unshare-user",
      "--unshare-ipc",
      "--unshare-pid",
      "--unshare-net",
      "--unshare-uts",
      "--unshare-cgroup",
      "--disable-userns",
      "--die-with-parent",
      "--new-session",
      "--cap-drop",
      "ALL",
      "--uid",
      "65534",
      "--gid",
      "65534",
      "--hostname",
      "sandbox",
    );
    // Only what the interpreter needs, read-only: the binary, its stdlib, shared libraries.
    const pyLink = "/usr/bin/python3";
    args.push("--ro-bind", layout.executable, layout.executable);
    if (layout.executable !== pyLink) args.push("--symlink", layout.executable, pyLink);
    args.push("--ro-bind", layout.stdlib, layout.stdlib);
    for (const dir of layout.libDirs) {
      const real = realpathSync(dir);
      args.push("--ro-bind", real, real);
      if (real !== dir) args.push("--symlink", real, dir);
    }
    if (this.systemModules.length > 0) args.push("--ro-bind", DEBIAN_DIST_PACKAGES, DEBIAN_DIST_PACKAGES);
    args.push("--symlink", "usr/lib", "/lib", "--symlink", "usr/bin", "/bin");
    args.push("--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev");
    args.push("--size", String(this.opts.tmpBytes), "--perms", "0700", "--tmpfs", "/tmp");
    args.push("--remount-ro", "/");
    args.push("--clearenv", "--setenv", "PYTHONHASHSEED", String(this.opts.hashSeed), "--setenv", "LANG", "C.UTF-8");
    for (const [k, v] of Object.entries(systemModulesEnv(this.systemModules))) args.push("--setenv", k, v);
    args.push("--chdir", "/tmp", "--as-pid-1");
    if (seccompFd !== undefined) args.push("--seccomp", String(seccompFd));
    args.push(...pythonCommand(layout.executable));
    return args;
  }

  async startRunner(slot: number): Promise<RunnerChannel> {
    let fd: number | undefined;
    if (this.seccompFile) fd = openSync(this.seccompFile, "r");
    const argv = this.commandFor(slot, fd === undefined ? undefined : 3);
    const stdio: ("pipe" | number)[] = ["pipe", "pipe", "pipe"];
    if (fd !== undefined) stdio.push(fd);
    const child = spawn(argv[0]!, argv.slice(1), { stdio, env: {}, detached: false });
    if (fd !== undefined) closeSync(fd);
    const exited = new Promise<string>((resolve) => {
      child.once("close", (code, signal) => resolve(signal ? `bwrap killed by ${signal}` : `bwrap exited with code ${code}`));
      child.once("error", (err) => resolve(`bwrap failed to start: ${err.message}`));
    });
    let killed = false;
    return {
      input: child.stdin!,
      output: child.stdout!,
      diagnostics: child.stderr!,
      exited,
      label: `bwrap pid ${child.pid ?? "?"} slot ${slot}`,
      async kill() {
        if (!killed) {
          killed = true;
          child.kill("SIGKILL");
        }
        await exited;
      },
    };
  }

  async close(): Promise<void> {
    if (this.seccompDir) rmSync(this.seccompDir, { recursive: true, force: true });
    this.seccompDir = undefined;
    this.seccompFile = undefined;
  }
}
