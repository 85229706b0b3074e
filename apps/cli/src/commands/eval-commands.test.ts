import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { seedRun, startTestApi, type TestApi } from "@azr/api/testing";
import { completeEval, transitionEval, type StoredProblem } from "@azr/orchestrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT, runCli } from "../cli.ts";
import type { Io } from "../output.ts";

// `azr eval` against a real server on PostgreSQL. No orchestrator runs here: where a job would
// progress, the test writes what the orchestrator writes (transitions, progress, results).

describe("azr eval", () => {
  let t: TestApi;
  let home: string;
  /** Runs the CLI in-process; `output()` shows what it has printed so far. */
  const cliLive = (argv: string[], token = t.tokens.alice) => {
    let out = "";
    let err = "";
    const io: Io = {
      out: (s) => void (out += s.endsWith("\n") ? s : `${s}\n`),
      err: (s) => void (err += s.endsWith("\n") ? s : `${s}\n`),
      env: { AZR_CONFIG_DIR: home, AZR_URL: t.url, AZR_TOKEN: token },
      isTTY: false,
      cwd: home,
    };
    const done = runCli(argv, io).then((code) => ({ code, out, err }));
    return { done, output: () => out };
  };
  const cli = (argv: string[], token = t.tokens.alice) => cliLive(argv, token).done;
  /** Polls `check` until it holds (a loaded CI machine can take seconds), or fails the test. */
  const until = async (what: string, check: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 600; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  /** What a job leaves once it has scored every problem. */
  const finish = async (id: string, solved: boolean[]) => {
    const problems: StoredProblem[] = solved.map((ok, i) => ({
      problemId: `q${i}`,
      index: i,
      prompt: `question ${i}`,
      correct: ok ? 1 : 0,
      n: 1,
      samples: [{ completion: `<answer>${i}</answer>`, extracted: ok ? String(i) : "wrong", correct: ok, status: ok ? "pass" : "wrong-answer", detail: ok ? null : `expected ${i}` }],
    }));
    const n = solved.filter(Boolean).length;
    expect(await completeEval(t.db.prisma, id, { "pass@1": n / solved.length, accuracy: n / solved.length, solved: n, total: solved.length }, problems)).toBe(true);
    t.api.services.notifier.notify(id);
  };
  beforeAll(async () => {
    t = await startTestApi("postgres");
    home = mkdtempSync(path.join(tmpdir(), "azr-cli-eval-"));
  });
  afterAll(async () => {
    await t?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it("has help, and exits 2 on usage errors", async () => {
    expect((await cli(["--help"])).out).toMatch(/eval <run\|model> --bench B1,B2 \[--checkpoint STEP\] \[--wait\]/);
    const help = await cli(["eval", "--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/--max-tokens N/);
    expect(help.out).toMatch(/azr eval compare <eval-a> <eval-b> \[--only a\|b\|both\|neither\]/);
    for (const argv of [["eval"], ["eval", "tiny"], ["eval", "tiny", "--bench", "fixture-math", "--checkpoint", "3"], ["eval", "tiny", "--bench", "fixture-math", "--template", "chat"], ["eval", "show", "nope"], ["eval", "compare", "00000000-0000-4000-8000-000000000000"], ["eval", "tiny", "--bench", "fixture-math", "--limit", "0"]]) {
      const r = await cli(argv);
      expect(r.code, argv.join(" ")).toBe(EXIT.usage);
    }
    expect((await cli(["eval", "tiny"])).err).toMatch(/azr eval needs --bench NAME/);
  });

  it("starts an evaluation of a catalogue model or a run's checkpoint; errors name the field and exit non-zero", async () => {
    const model = await cli(["eval", "tiny", "--bench", "fixture-math,fixture-cruxeval-o", "--max-tokens", "64", "--limit", "2", "--set", "decoding.topP=0.9", "--json"]);
    expect(model.code).toBe(0);
    const started = JSON.parse(model.out) as { jobId: string; items: { benchmark: string; modelName: string; settings: { template: string; definition: { limit: number; decoding: { maxTokens: number; topP: number } } } }[] };
    expect(started.items.map((e) => e.benchmark)).toEqual(["fixture-math", "fixture-cruxeval-o"]);
    expect(started.items[0]!.settings).toMatchObject({ template: "base", definition: { limit: 2, decoding: { maxTokens: 64, topP: 0.9 } } });
    const run = await seedRun(t.db, t.users.alice, { status: "completed", steps: 10, checkpointSteps: [5, 10] });
    const onRun = await cli(["eval", run.id, "--bench", "fixture-cruxeval-i", "--checkpoint", "5"]);
    expect(onRun.out).toMatch(new RegExp(`^queued eval job \\S+ on run ${run.id.slice(0, 8)} @ step 5: fixture-cruxeval-i \\([0-9a-f-]{36}\\)`));
    const unknown = await cli(["eval", "tiny", "--bench", "humaneval"]);
    expect(unknown.code).toBe(EXIT.notFound);
    expect(unknown.err).toMatch(/benchmarks\.0 \(humaneval\): unknown benchmark "humaneval"/);
    const noData = await cli(["eval", "tiny", "--bench", "math500"]);
    expect(noData.code).toBe(EXIT.failed);
    expect(noData.err).toMatch(/benchmark math500 has no source: nothing is downloaded/);
    const noCheckpoint = await cli(["eval", run.id, "--bench", "fixture-math", "--checkpoint", "7"]);
    expect(noCheckpoint.code).toBe(EXIT.notFound);
    expect(noCheckpoint.err).toMatch(/step: run .* has no checkpoint at step 7 \(its checkpoints are at steps 5, 10\)/);
    expect((await cli(["eval", "tiny", "--bench", "fixture-math"], t.tokens.reader)).code).toBe(EXIT.unauthorized);
  });

  it("--wait follows the job live and prints the scores; exits 0 when every evaluation completed", async () => {
    const t0 = new Date();
    const live = cliLive(["eval", "tiny", "--bench", "fixture-math,fixture-cruxeval-o", "--wait"]);
    const waiting = live.done;
    let rows: { id: string }[] = [];
    await until("the two queued evaluations", async () => {
      rows = await t.db.prisma.evalResult.findMany({ where: { status: "queued", createdAt: { gte: t0 } }, orderBy: { benchmark: "desc" } });
      return rows.length === 2;
    });
    const [math, crux] = rows;
    await until("the CLI to show the queued evaluations", () => /fixture-math\s+queued/.test(live.output()));
    await transitionEval(t.db.prisma, math!.id, "running", { problemsTotal: 3 });
    await t.db.prisma.evalResult.update({ where: { id: math!.id }, data: { problemsDone: 2 } });
    t.api.services.notifier.notify(math!.id);
    await until("the CLI to show the progress", () => /fixture-math\s+running\s+2\/3/.test(live.output()));
    await finish(math!.id, [true, false, true]);
    await transitionEval(t.db.prisma, crux!.id, "running", { problemsTotal: 1 });
    await finish(crux!.id, [true]);
    const r = await waiting;
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^queued eval job /);
    expect(r.out).toMatch(/fixture-math\s+queued/);
    expect(r.out).toMatch(/fixture-math\s+running\s+2\/3/);
    expect(r.out).toMatch(/fixture-math\s+completed\s+3\/3/);
    expect(r.out).toMatch(/scores\nBENCHMARK\s+STATUS\s+PASS@1\s+ACCURACY\s+SOLVED\s+TOTAL\nfixture-math\s+completed\s+0\.6667\s+0\.6667\s+2\s+3\nfixture-cruxeval-o\s+completed\s+1\s+1\s+1\s+1/);
  });

  it("--wait exits 1 when an evaluation fails", async () => {
    const waiting = cli(["eval", "tiny", "--bench", "fixture-mbpp-plus", "--wait"]);
    let row: { id: string } | null = null;
    await until("the queued evaluation", async () => {
      row = await t.db.prisma.evalResult.findFirst({ where: { benchmark: "fixture-mbpp-plus", status: "queued" } });
      return row !== null;
    });
    await transitionEval(t.db.prisma, row!.id, "failed", { error: "the worker did not start: out of memory" });
    t.api.services.notifier.notify(row!.id);
    const r = await waiting;
    expect(r.code).toBe(EXIT.failed);
    expect(r.out).toMatch(/fixture-mbpp-plus\s+failed\s+-\s+the worker did not start: out of memory/);
  });

  it("list, show, compare and cancel", async () => {
    const run = await seedRun(t.db, t.users.alice, { status: "completed", steps: 4, checkpointSteps: [2, 4] });
    const a = JSON.parse((await cli(["eval", run.id, "--bench", "fixture-math", "--checkpoint", "2", "--json"])).out) as { items: { id: string }[] };
    const b = JSON.parse((await cli(["eval", run.id, "--bench", "fixture-math", "--json"])).out) as { items: { id: string }[] };
    const [idA, idB] = [a.items[0]!.id, b.items[0]!.id];
    for (const id of [idA, idB]) await transitionEval(t.db.prisma, id, "running");
    await finish(idA, [true, true, false, false]);
    await finish(idB, [true, false, true, false]);
    const list = await cli(["eval", "list", "--run", run.id], t.tokens.reader);
    expect(list.out).toMatch(/^ID\s+BENCHMARK\s+SUBJECT\s+STATUS\s+PROBLEMS\s+PASS@1/);
    expect(list.out).toMatch(new RegExp(`${idB}\\s+fixture-math\\s+run ${run.id.slice(0, 8)} @ step 4\\s+completed\\s+4/4\\s+0\\.5000\\s+user`));
    expect(list.out).toMatch(new RegExp(`${idA}\\s+fixture-math\\s+run ${run.id.slice(0, 8)} @ step 2`));
    const show = await cli(["eval", "show", idA, "--failed"], t.tokens.reader);
    expect(show.out).toMatch(/status\s+completed/);
    expect(show.out).toMatch(/scores\s+pass@1=0\.5000\s+accuracy=0\.5000\s+solved=2\s+total=4/);
    expect(show.out).toMatch(/PROBLEM\s+CORRECT\s+STATUS\s+ANSWER\s+DETAIL\nq2\s+0\/1\s+wrong-answer\s+wrong\s+expected 2\nq3\s+/);
    expect(show.out).not.toMatch(/^q0 /m);
    const cmp = await cli(["eval", "compare", idA, idB], t.tokens.reader);
    expect(cmp.code).toBe(0);
    expect(cmp.out).toMatch(/solved by A only 1\s+by B only 1\s+by both 1\s+by neither 1/);
    expect(cmp.out).toMatch(/q1\s+a-only\s+1\s+wrong/);
    expect(cmp.out).toMatch(/q2\s+b-only\s+wrong\s+2/);
    expect((await cli(["eval", "compare", idA, idB, "--only", "b", "--json"], t.tokens.reader)).out).toMatch(/"category": "b-only"/);
    const queued = JSON.parse((await cli(["eval", "tiny", "--bench", "fixture-math", "--json"])).out) as { items: { id: string }[] };
    expect((await cli(["eval", "cancel", queued.items[0]!.id], t.tokens.bob)).code).toBe(EXIT.unauthorized);
    expect((await cli(["eval", "cancel", queued.items[0]!.id, "--reason", "typo"])).out).toMatch(/: cancelled$/m);
    expect((await cli(["eval", "cancel", idA])).code).toBe(EXIT.failed);
    expect((await cli(["eval", "show", "00000000-0000-4000-8000-000000000000"])).code).toBe(EXIT.notFound);
    const benchmarks = await cli(["eval", "benchmarks"], t.tokens.reader);
    expect(benchmarks.out).toMatch(/^NAME\s+KIND\s+FORMAT\s+MAX TOKENS\s+DATA/);
    expect(benchmarks.out).toMatch(/humaneval-plus\s+code\s+evalplus\s+8096\s+no source/);
    expect(benchmarks.out).toMatch(/fixture-math\s+math\s+math-jsonl\s+16000\s+\/\S+math\.jsonl/);
  });
});
