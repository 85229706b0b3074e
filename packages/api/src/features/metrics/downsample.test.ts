import { Rng } from "@azr/azr";
import type { Database, SqlSession } from "@azr/db";
import { createTestDatabase, testBackends, type TestDatabase } from "@azr/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downsample, type Series } from "./downsample.ts";

// The two ways a series is bucketed — its points read whole and bucketed here, or aggregated by
// PostgreSQL once a request passes its budget — must give the same buckets to the bit, or a chart
// would change when a compare adds one more run. The data is random from a fixed seed, so a
// failure reproduces.

const seeded = (seed: number) => {
  const rng = Rng.fromSeed(seed);
  return () => rng.float();
};

const T0 = Date.UTC(2026, 0, 1);

/** Steps with gaps; wall times that repeat and sometimes go back; values with NaN, ±Infinity, ±0 and repeats. */
function randomSeries(rand: () => number, n: number) {
  const steps: number[] = [];
  const times: number[] = [];
  const values: string[] = [];
  let step = Math.floor(rand() * 50);
  let time = T0 + Math.floor(rand() * 1e6);
  const special = ["NaN", "Infinity", "-Infinity", "0", "-0"];
  for (let i = 0; i < n; i++) {
    steps.push(step);
    times.push(time);
    const r = rand();
    values.push(r < 0.02 ? special[Math.floor(rand() * special.length)]! : r < 0.1 && values.length ? values[values.length - 1]! : String((rand() - 0.5) * 10 ** Math.floor(rand() * 6)));
    step += rand() < 0.2 ? 1 + Math.floor(rand() * 40) : 1;
    const dt = rand();
    time += dt < 0.15 ? 0 : dt < 0.2 ? -Math.floor(rand() * 5000) : Math.floor(rand() * 3000);
  }
  return { steps, times, values };
}

describe.each(testBackends)("downsampling (%s)", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  const runs: string[] = [];
  const wallTimes = new Set<number>();
  const keys = ["a", "b", "c", "d", "e", "empty"];
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await tdb.open();
    const owner = await db.prisma.user.create({ data: { name: "owner" } });
    const rand = seeded(20261125);
    for (const name of ["r1", "r2", "r3"]) {
      const run = await db.prisma.run.create({ data: { name, ownerId: owner.id, config: {}, seed: 1n, poolName: "local", modelName: "tiny", totalSteps: 1 } });
      runs.push(run.id);
      for (const key of keys) {
        const series = await db.prisma.metricSeries.create({ data: { runId: run.id, key } });
        if (key === "empty") continue;
        // Sizes around the bucket counts the tests ask for: fewer, about as many, many more.
        const n = [1, 3, 40, 700, 2500][Math.floor(rand() * 5)]!;
        const s = randomSeries(rand, n);
        for (const ms of s.times) wallTimes.add(ms);
        await db.sql.query(
          `INSERT INTO "MetricPoint" ("seriesId", step, "wallTime", value)
           SELECT $1, u.step, to_timestamp(u.ms / 1000.0) AT TIME ZONE 'UTC', u.value::float8
             FROM unnest($2::int[], $3::float8[], $4::text[]) AS u(step, ms, value)`,
          [series.id, s.steps, s.times, s.values],
        );
        await db.sql.query(`UPDATE "MetricSeries" SET count = $2 WHERE id = $1`, [series.id, n]);
      }
    }
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  /** Read whole and aggregated, each also as one statement for all runs: all four must agree. */
  const both = async (input: Parameters<typeof downsample>[1], sharedRange = false): Promise<[Series[], Series[]]> => {
    const whole = await downsample(db.sql, input, { sharedRange, wholePointsBudget: Infinity });
    const aggregated = await downsample(db.sql, input, { sharedRange, wholePointsBudget: 0 });
    expect(await downsample(db.sql, input, { sharedRange, wholePointsBudget: Infinity, splitByRun: false })).toEqual(whole);
    expect(await downsample(db.sql, input, { sharedRange, wholePointsBudget: 0, splitByRun: false })).toEqual(aggregated);
    return [whole, aggregated];
  };

  it("gives the same buckets read whole as aggregated by PostgreSQL, on either axis, any range and bucket count", async () => {
    const rand = seeded(7);
    let compared = 0;
    // Every requested series comes back, empty ones included, in (run, key) order.
    const order = (await db.sql.query<{ id: string }>(`SELECT "runId" || '/' || key AS id FROM "MetricSeries" ORDER BY "runId", key`)).map((r) => r.id);
    for (let trial = 0; trial < 24; trial++) {
      const axis = trial % 2 === 0 ? "step" : "time";
      const points = [2, 3, 7, 50, 500, 5000][trial % 6]!;
      const span = axis === "step" ? 3000 : 4e6;
      const origin = axis === "step" ? 0 : T0;
      const from = rand() < 0.5 ? undefined : origin + Math.floor(rand() * span * 0.6);
      const to = rand() < 0.5 ? undefined : (from ?? origin) + Math.floor(rand() * span);
      const input = { runIds: runs, keys, axis, points, from, to } as const;
      const [whole, aggregated] = await both(input, trial % 3 === 0);
      expect(whole).toEqual(aggregated);
      expect(whole.map((s) => `${s.runId}/${s.key}`)).toEqual(order);
      for (const s of whole) {
        expect(s.buckets.length).toBeLessThanOrEqual(points);
        expect(s.total).toBe(s.buckets.reduce((n, b) => n + b.count, 0));
        compared += s.buckets.length;
      }
    }
    expect(compared).toBeGreaterThan(5000);
  });

  it("follows PostgreSQL's float8 rules: NaN ranks highest, infinities propagate", async () => {
    const [whole, aggregated] = await both({ runIds: runs, keys, axis: "step", points: 5000 });
    expect(whole).toEqual(aggregated);
    const buckets = whole.flatMap((s) => s.buckets);
    // One point per bucket here: every special value shows up on its own somewhere.
    expect(buckets.some((b) => Number.isNaN(b.max))).toBe(true);
    expect(buckets.some((b) => b.min === -Infinity)).toBe(true);
    // With NaN among several points, min skips it and max is it.
    const coarse = (await downsample(db.sql, { runIds: runs, keys, axis: "step", points: 2 }, { wholePointsBudget: Infinity })).flatMap((s) => s.buckets);
    expect(coarse.some((b) => Number.isNaN(b.max) && !Number.isNaN(b.min) && b.count > 1)).toBe(true);
  });

  it("puts wall times on the time axis as their exact epoch milliseconds", async () => {
    const [whole, aggregated] = await both({ runIds: runs, keys, axis: "time", points: 5000 });
    expect(whole).toEqual(aggregated);
    const xs = whole.flatMap((s) => s.buckets.flatMap((b) => [b.x, b.xEnd]));
    expect(xs.length).toBeGreaterThan(1000);
    expect(xs.filter((x) => !wallTimes.has(x))).toEqual([]);
  });

  it("mixes both ways in one request once the budget runs out, in response order", async () => {
    const input = { runIds: runs, keys, axis: "step", points: 100 } as const;
    const [whole] = await both(input, true);
    const counts = await db.sql.query<{ n: number }>(`SELECT count AS n FROM "MetricSeries" WHERE "runId" = ANY($1::text[]) ORDER BY "runId", key`, [runs]);
    // Series 1-9 of 18 read whole (the budget runs out inside the second run), the rest aggregated.
    const half = counts.slice(0, 9).reduce((a, r) => a + r.n, 0);
    expect(await downsample(db.sql, input, { sharedRange: true, wholePointsBudget: half })).toEqual(whole);
    expect(await downsample(db.sql, input, { sharedRange: true, wholePointsBudget: half, splitByRun: false })).toEqual(whole);
    // Which way each series went, read off the statements' rows (the buckets cannot tell).
    for (const splitByRun of [true, false]) {
      const ways = new Map<string, boolean>();
      const recording: SqlSession = {
        query: async <T extends Record<string, unknown>>(text: string, params?: unknown[]) => {
          const rows = await db.sql.query<T>(text, params);
          for (const r of rows) if ("whole" in r) ways.set(`${String(r.runId)}/${String(r.key)}`, r.whole as boolean);
          return rows;
        },
        exec: (text) => db.sql.exec(text),
      };
      const got = await downsample(recording, input, { sharedRange: true, wholePointsBudget: half, splitByRun });
      expect(got.map((s) => ways.get(`${s.runId}/${s.key}`))).toEqual(got.map((_, i) => i < 9));
    }
  });

  it("accepts any finite from/to the schema allows, on both axes", async () => {
    for (const axis of ["step", "time"] as const) {
      const [wide] = await both({ runIds: runs, keys: ["a"], axis, points: 10, from: -1e300, to: 1e300 });
      const [all] = await both({ runIds: runs, keys: ["a"], axis, points: 10 });
      expect(wide.map((s) => s.total)).toEqual(all.map((s) => s.total));
      const [none, noneAgg] = await both({ runIds: runs, keys: ["a"], axis, points: 10, from: 1e300, to: 1e300 });
      expect(none).toEqual(noneAgg);
      expect(none.every((s) => s.total === 0 && s.buckets.length === 0)).toBe(true);
    }
  });
});
