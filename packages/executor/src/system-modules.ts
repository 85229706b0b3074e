// Debian-packaged Python modules a runner may import at start, for scoring jobs only.
//
// Sandboxes bind only the interpreter and its stdlib, so model programs in training can import
// nothing else. Math scoring (packages/eval) needs sympy for symbolic equivalence, run in the
// sandbox like everything else; a pool created with `systemModules` additionally binds Debian's
// dist-packages directory read-only, puts it on sys.path and imports the listed modules in the
// zygote before the first fork (so each job pays no import). The list is closed: only modules
// reviewed for this use may be named, and pools that run model programs never set it.

/** Debian's directory for python3-* packages (python3-sympy, python3-mpmath). */
export const DEBIAN_DIST_PACKAGES = "/usr/lib/python3/dist-packages";

export const ALLOWED_SYSTEM_MODULES = ["sympy", "mpmath"] as const;
export type SystemModule = (typeof ALLOWED_SYSTEM_MODULES)[number];

/** Validates a `systemModules` option; throws on anything outside the allowlist. */
export function checkSystemModules(modules: readonly string[] | undefined): SystemModule[] {
  const list = [...new Set(modules ?? [])];
  for (const m of list) {
    if (!(ALLOWED_SYSTEM_MODULES as readonly string[]).includes(m)) {
      throw new Error(`systemModules: ${JSON.stringify(m)} is not allowed (allowed: ${ALLOWED_SYSTEM_MODULES.join(", ")})`);
    }
  }
  return list as SystemModule[];
}

/** Runner environment for the modules (empty when there are none). */
export function systemModulesEnv(modules: readonly SystemModule[]): Record<string, string> {
  return modules.length === 0 ? {} : { AZR_RUNNER_SYS_PATH: DEBIAN_DIST_PACKAGES, AZR_RUNNER_PRELOAD: modules.join(",") };
}
