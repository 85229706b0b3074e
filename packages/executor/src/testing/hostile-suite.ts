import { existsSync } from "node:fs";
import type { ExecutorPool } from "../pool.ts";
import { HEALTHY_REQUEST, HOSTILE_CASES, checkHealthy } from "./hostile-cases.ts";
import type { HostileContext } from "./hostile-cases.ts";

export interface HostileReport {
  cases: number;
  /** One line per mismatch, naming the case. Empty when everything behaved. */
  problems: string[];
  /** Status of every case, for the test log. */
  statuses: Record<string, string>;
}

/** Runs every hostile case (concurrently, so they land on every runner), then a normal job on
 * each runner, then checks that nothing reached the host and that no runner crashed. */
export async function runHostileSuite(pool: ExecutorPool, ctx: HostileContext): Promise<HostileReport> {
  const problems: string[] = [];
  const statuses: Record<string, string> = {};
  const before = pool.metrics();
  await Promise.all(
    HOSTILE_CASES.map(async (c, i) => {
      const r = await pool.run({ id: `hostile-${i}`, kind: "run", ...c.request(ctx) });
      statuses[c.name] = r.status;
      for (const p of c.check(r, ctx)) problems.push(`${c.name}: ${p}`);
    }),
  );
  const health = await pool.runOnEveryRunner({ kind: "run", ...HEALTHY_REQUEST });
  health.forEach((r, slot) => {
    for (const p of checkHealthy(r)) problems.push(`runner ${slot} unhealthy afterwards: ${p}`);
  });
  if (existsSync(ctx.hostMarker)) problems.push(`${ctx.hostMarker} was created on the host`);
  const after = pool.metrics();
  if (after.crashes !== before.crashes) problems.push(`${after.crashes - before.crashes} runner(s) crashed`);
  if (after.hungKilled !== before.hungKilled) problems.push(`${after.hungKilled - before.hungKilled} runner(s) hung and were killed`);
  return { cases: HOSTILE_CASES.length, problems, statuses };
}
