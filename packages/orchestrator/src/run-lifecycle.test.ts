import { createTestDatabase, testBackends, type TestDatabase } from "@azr/db/testing";
import type { Database } from "@azr/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IllegalTransitionError, RunNotFoundError, transitionRun } from "./run-lifecycle.ts";

describe.each(testBackends)("run lifecycle in the database (%s)", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  let ownerId: string;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await tdb.open();
    ownerId = (await db.prisma.user.create({ data: { name: "owner" } })).id;
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });
  const newRun = () =>
    db.prisma.run.create({ data: { name: "r", ownerId, config: {}, seed: 1n, poolName: "local", modelName: "tiny", totalSteps: 2 } });

  it("records every transition as an event with who and why, and keeps the timestamps", async () => {
    const run = await newRun();
    await transitionRun(db.prisma, { runId: run.id, to: "provisioning", actor: "scheduler", reason: "capacity in pool local" });
    const running = await transitionRun(db.prisma, { runId: run.id, to: "running", actor: "worker", reason: "worker ready" });
    expect(running.startedAt).toBeInstanceOf(Date);
    expect(running.attempt).toBe(1);
    const failed = await transitionRun(db.prisma, { runId: run.id, to: "failed", actor: "server", reason: "worker exited 137" });
    expect(failed).toMatchObject({ status: "failed", failureReason: "worker exited 137" });
    expect(failed.finishedAt).toBeInstanceOf(Date);
    const resumed = await transitionRun(db.prisma, { runId: run.id, to: "queued", actor: "user:owner", reason: "resume" });
    expect(resumed).toMatchObject({ status: "queued", failureReason: null, finishedAt: null });
    const events = await db.prisma.runEvent.findMany({ where: { runId: run.id }, orderBy: { id: "asc" } });
    expect(events.map((e) => [e.fromStatus, e.toStatus, e.actor, e.message])).toEqual([
      ["queued", "provisioning", "scheduler", "capacity in pool local"],
      ["provisioning", "running", "worker", "worker ready"],
      ["running", "failed", "server", "worker exited 137"],
      ["failed", "queued", "user:owner", "resume"],
    ]);
    expect(events[2]!.level).toBe("error");
  });

  it("rejects an illegal transition and changes nothing", async () => {
    const run = await newRun();
    await expect(transitionRun(db.prisma, { runId: run.id, to: "completed", actor: "x", reason: "y" })).rejects.toThrow(
      new IllegalTransitionError(run.id, "queued", "completed"),
    );
    expect((await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).status).toBe("queued");
    expect(await db.prisma.runEvent.count({ where: { runId: run.id } })).toBe(0);
  });

  it("names an unknown run", async () => {
    await expect(transitionRun(db.prisma, { runId: "nope", to: "cancelled", actor: "x", reason: "y" })).rejects.toBeInstanceOf(RunNotFoundError);
  });

  it("lets exactly one of two racing transitions win", async () => {
    const run = await newRun();
    const results = await Promise.allSettled([
      transitionRun(db.prisma, { runId: run.id, to: "provisioning", actor: "scheduler-a", reason: "a" }),
      transitionRun(db.prisma, { runId: run.id, to: "cancelled", actor: "user", reason: "b" }),
    ]);
    // provisioning → cancelled is legal too, so both may succeed, one after the other.
    expect(results.filter((r) => r.status === "fulfilled").length).toBeGreaterThanOrEqual(1);
    const events = await db.prisma.runEvent.findMany({ where: { runId: run.id }, orderBy: { id: "asc" } });
    // Whatever the interleaving, the recorded history is a legal chain starting at queued.
    let status = "queued";
    for (const e of events) {
      expect(e.fromStatus).toBe(status);
      status = e.toStatus!;
    }
    expect((await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).status).toBe(status);
  });
});
