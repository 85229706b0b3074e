// TEST HELPER: a control-plane process for the crash tests. It runs the orchestrator on the
// database given in argv against the recorded-responses policy (a test double), and prints
// "step N" lines; the test kills it with SIGKILL in the middle of a step.
import { openDatabase, parsePostgresUrl } from "@azr/db";
import { BwrapBackend, ExecutorPool } from "@azr/executor";
import { defaultAdminConfig } from "../admin-config.ts";
import { CheckpointStore } from "../checkpoints.ts";
import { Orchestrator } from "../orchestrator.ts";
import type { WorkerFactory } from "../run-attempt.ts";
import { InProcessRunQueue, PgBossRunQueue } from "../run-queue.ts";
import { RecordedResponsesPolicy, recordedWorkerSession } from "./recorded-policy.ts";

const [kind, where, checkpointRoot, hangOnStepText] = process.argv.slice(2);
const hangOnStep = Number(hangOnStepText);
const target = kind === "postgres" ? { kind: "postgres" as const, ...parsePostgresUrl(where!) } : { kind: "pglite" as const, dataDir: where! };
const db = await openDatabase({ target });
const pools = defaultAdminConfig.pools.map((p) => ({ name: p.name, concurrency: p.concurrency }));
const queue = target.kind === "postgres" ? new PgBossRunQueue(target.url, pools, { pollingIntervalSeconds: 0.5 }) : new InProcessRunQueue(pools);
const executor = await new ExecutorPool(new BwrapBackend(), { runners: 2 }).start();

// Generation on step `hangOnStep` never returns: the process is killed there, mid-step.
const policy = new RecordedResponsesPolicy();
let calls = 0;
const hanging: WorkerFactory = async () => {
  const session = recordedWorkerSession(policy);
  const generate = session.policy.generate.bind(session.policy);
  session.policy.generate = async (b) => (Math.ceil(++calls / 3) === hangOnStep ? new Promise(() => {}) : generate(b));
  return session;
};
const orchestrator = new Orchestrator({
  prisma: db.prisma,
  admin: defaultAdminConfig,
  queue,
  executor,
  checkpoints: new CheckpointStore(db.prisma, { root: checkpointRoot!, keepLast: 5 }),
  workersFor: () => hanging,
  onStep: (p) => process.stdout.write(`step ${p.step}\n`),
});
await orchestrator.start();
process.stdout.write("ready\n");
