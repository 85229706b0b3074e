import { createExecutor, type ExecutorPool } from "@azr/executor";

// Real bubblewrap pools for the scorer tests. Host uids of their own (when run as root):
// RLIMIT_NPROC counts per uid, so sharing other suites' uids while their fork-bomb cases run in
// parallel would make both flaky.
const UID_BASE = 2_000_106_000;

export interface TestSandbox {
  pool: ExecutorPool | undefined;
  /** Why no sandbox could start (the suites skip visibly), or "". */
  unavailable: string;
}

/** `slot` (0–99) keeps the pools of different test files (which run in parallel) on different
 * host uids. */
export async function testSandbox(slot: number, opts: { sympy?: boolean; runners?: number } = {}): Promise<TestSandbox> {
  const uidBase = UID_BASE + 10 * slot;
  try {
    const pool = await createExecutor({ backend: "bwrap", runners: opts.runners ?? 2, bwrap: { uidBase }, systemModules: opts.sympy ? ["sympy"] : [] });
    return { pool, unavailable: "" };
  } catch (e) {
    return { pool: undefined, unavailable: (e as Error).message.split("\n")[0]! };
  }
}
