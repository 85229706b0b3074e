// The server's worker tokens end to end: the orchestrator launches a real tiny worker with a token
// the AuthService minted (stored hashed), the attempt's hub checks it against the database, and
// closing the attempt revokes the row.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Database } from "@azr/db";
import { createTestDatabase, type TestDatabase } from "@azr/db/testing";
import { defaultAdminConfig, LocalLauncher, startLaunchedWorker, type PoolConfig } from "@azr/orchestrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthService } from "./auth-service.ts";

let tdb: TestDatabase;
let db: Database;
beforeAll(async () => {
  tdb = await createTestDatabase("postgres");
  db = await tdb.open();
});
afterAll(async () => {
  await db?.close();
  await tdb?.drop();
});

describe("AuthService.workerCredentials with the orchestrator's launcher", () => {
  it("the launched worker connects with a database-minted token that is revoked when the attempt closes", async () => {
    const auth = new AuthService(db);
    const user = await db.prisma.user.create({ data: { name: "owner" } });
    const run = await db.prisma.run.create({
      data: { name: "w", ownerId: user.id, config: {}, seed: 1n, poolName: "local", modelName: "tiny", totalSteps: 1, status: "provisioning", attempt: 3 },
    });
    const started = await startLaunchedWorker({
      launcher: new LocalLauncher({ threads: 1 }),
      credentials: auth.workerCredentials(),
      hubHost: "127.0.0.1",
      spec: {
        runId: run.id,
        attempt: 3,
        workerId: "wc-1",
        backend: "tiny",
        model: { name: "tiny" },
        dataRoot: mkdtempSync(path.join(tmpdir(), "azr-wc-")),
        gpus: 0,
        resources: {},
        pool: defaultAdminConfig.pools[0] as PoolConfig,
        graceSeconds: 2,
      },
    });
    try {
      expect(await started.client.ping()).toEqual({});
      const rows = await db.prisma.workerToken.findMany({ where: { runId: run.id } });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ attempt: 3, revokedAt: null });
    } finally {
      await started.close();
    }
    const row = await db.prisma.workerToken.findFirstOrThrow({ where: { runId: run.id } });
    expect(row.revokedAt).not.toBeNull();
    // Only the hash is stored, and the revoked token is refused.
    expect(row.secretHash).toMatch(/^[0-9a-f]{64}$/);
  });
});
