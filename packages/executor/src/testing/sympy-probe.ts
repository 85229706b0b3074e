import type { RunRequest } from "@azr/protocol";
import { DEBIAN_DIST_PACKAGES } from "../system-modules.ts";

/** A job that tries to reach Debian's sympy by putting dist-packages on sys.path itself: an
 * ordinary (training) pool of either backend must answer ModuleNotFoundError. */
export const IMPORT_SYMPY_VIA_SYS_PATH: RunRequest = {
  id: "import-sympy-via-sys-path",
  kind: "run",
  program: `import sys\nsys.path.append(${JSON.stringify(DEBIAN_DIST_PACKAGES)})\ndef f():\n    import sympy\n    return 1`,
  calls: [""],
};
