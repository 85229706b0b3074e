import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { seedRun, startTestApi, type TestApi } from "@azr/api/testing";
import { transitionRun } from "@azr/orchestrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT, runCli } from "./cli.ts";
import type { Io } from "./output.ts";

// The CLI against a real server on PostgreSQL (the API's own tests cover both backends).

describe("azr CLI", () => {
  let t: TestApi;
  let home: string;
  const cli = async (argv: string[], opts: { token?: string; env?: Record<string, string>; tty?: boolean } = {}) => {
    let out = "";
    let err = "";
    const io: Io = {
      out: (s) => void (out += s.endsWith("\n") ? s : `${s}\n`),
      err: (s) => void (err += s.endsWith("\n") ? s : `${s}\n`),
      env: { AZR_CONFIG_DIR: home, AZR_URL: t.url, ...(opts.token ? { AZR_TOKEN: opts.token } : {}), ...opts.env },
      isTTY: Boolean(opts.tty),
      cwd: home,
    };
    const code = await runCli(argv, io);
    return { code, out, err };
  };
  beforeAll(async () => {
    t = await startTestApi("postgres");
    home = mkdtempSync(path.join(tmpdir(), "azr-cli-"));
  });
  afterAll(async () => {
    await t?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it("helps, and exits 2 on usage errors", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/run <config.yaml\|preset> \[--set k=v\]/);
    expect((await cli(["run", "--help"])).out).toMatch(/--set KEY=VALUE/);
    const bogus = await cli(["bogus"]);
    expect(bogus.code).toBe(EXIT.usage);
    expect(bogus.err).toMatch(/unknown command "bogus"/);
    expect((await cli(["run"], { token: t.tokens.alice })).code).toBe(EXIT.usage);
    expect((await cli(["show", "not-an-id"], { token: t.tokens.alice })).err).toMatch(/is not a run id/);
    expect((await cli(["ls", "--nope"], { token: t.tokens.alice })).code).toBe(EXIT.usage);
    expect((await cli(["run", "tiny-cpu", "--set", "novalue"], { token: t.tokens.alice })).err).toMatch(/expected key=value/);
  });

  it("login checks the token and saves it 0600; later commands use it; a readable file is refused", async () => {
    const noAuth = await cli(["ls"]);
    expect(noAuth.code).toBe(EXIT.unauthorized);
    expect(noAuth.err).toMatch(/not signed in/);
    const bad = await cli(["login", "--token", "azr_pat_" + "x".repeat(43)]);
    expect(bad.code).toBe(EXIT.unauthorized);
    const ok = await cli(["login", "--token", t.tokens.alice]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/signed in to .* as alice \(write\)/);
    const file = path.join(home, "credentials.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ url: t.url, token: t.tokens.alice });
    expect((await cli(["ls"])).code).toBe(0);
    chmodSync(file, 0o644);
    expect((await cli(["ls"])).err).toMatch(/readable by other users; run: chmod 600/);
    expect((await cli(["logout"])).out).toBe("signed out\n");
  });

  it("run from a preset or a config file with --set overrides; errors name the field", async () => {
    const r = await cli(["run", "tiny-cpu", "--set", "azr.batchSize=8", "--set", "optim.lr=0.001", "--tag", "cli", "--name", "cli-run", "--json"], { token: t.tokens.alice });
    expect(r.code).toBe(0);
    const run = JSON.parse(r.out) as { id: string; name: string; config: { azr: { batchSize: number }; optim: { lr: number } }; tags: string[] };
    expect(run).toMatchObject({ name: "cli-run", tags: ["cli"], config: { azr: { batchSize: 8 }, optim: { lr: 0.001 } } });
    writeFileSync(path.join(home, "exp.yaml"), "preset: tiny-cpu\nazr:\n  references: 3\nschedule:\n  totalSteps: 7\n");
    const f = await cli(["run", "exp.yaml", "--json"], { token: t.tokens.alice });
    expect(JSON.parse(f.out)).toMatchObject({ totalSteps: 7, config: { azr: { references: 3 } } });
    const bad = await cli(["run", "tiny-cpu", "--set", "azr.batchSize=-1"], { token: t.tokens.alice });
    expect(bad.code).toBe(EXIT.failed);
    expect(bad.err).toMatch(/config\.azr\.batchSize: /);
    expect((await cli(["run", "missing.yaml"], { token: t.tokens.alice })).err).toMatch(/no such file: missing.yaml/);
    const reader = await cli(["run", "tiny-cpu"], { token: t.tokens.reader });
    expect(reader.code).toBe(EXIT.unauthorized);
    expect(reader.err).toMatch(/write scope/);
  });

  it("ls, show, cancel, resume, logs; unknown runs exit 4; colours only on a TTY", async () => {
    const run = await seedRun(t.db, t.users.alice, { name: "shown", status: "running", steps: 5, keys: ["reward/mean"], checkpointSteps: [4], tags: ["ls"] });
    const ls = await cli(["ls", "--tag", "ls"], { token: t.tokens.reader });
    expect(ls.out).toMatch(/^ID\s+NAME\s+STATUS/);
    expect(ls.out).toContain(run.id);
    expect(ls.out).not.toContain("\u001b[");
    expect((await cli(["ls", "--tag", "ls"], { token: t.tokens.reader, tty: true })).out).toContain("\u001b[36mrunning");
    expect((await cli(["ls", "--tag", "ls"], { token: t.tokens.reader, tty: true, env: { NO_COLOR: "1" } })).out).not.toContain("\u001b[");
    expect(JSON.parse((await cli(["ls", "--json", "--tag", "ls"], { token: t.tokens.reader })).out).items).toHaveLength(1);
    const show = await cli(["show", run.id], { token: t.tokens.reader });
    expect(show.out).toMatch(/status\s+running/);
    expect(show.out).toMatch(/reward\/mean\s+4\s/);
    expect((await cli(["cancel", run.id], { token: t.tokens.bob })).code).toBe(EXIT.unauthorized);
    expect((await cli(["cancel", run.id, "--reason", "enough"], { token: t.tokens.alice })).out).toMatch(/cancelled/);
    expect((await cli(["resume", run.id], { token: t.tokens.alice })).out).toMatch(/queued/);
    const logs = await cli(["logs", run.id], { token: t.tokens.reader });
    expect(logs.out).toMatch(/running → cancelled \(user:alice: enough\)/);
    expect(logs.out).toMatch(/cancelled → queued/);
    const missing = await cli(["show", "00000000-0000-4000-8000-000000000000"], { token: t.tokens.reader });
    expect(missing.code).toBe(EXIT.notFound);
  });

  it("logs -f follows live until the run ends", async () => {
    const run = await seedRun(t.db, t.users.alice, { name: "followed", status: "running" });
    const following = cli(["logs", "-f", run.id], { token: t.tokens.reader });
    await new Promise((r) => setTimeout(r, 500));
    await t.db.prisma.runEvent.create({ data: { runId: run.id, kind: "log", actor: "worker", message: "step 1 done" } });
    await transitionRun(t.db.prisma, { runId: run.id, to: "completed", actor: "server", reason: "all steps done" });
    t.api.services.notifier.notify(run.id);
    const r = await following;
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/step 1 done[\s\S]*running → completed/);
  });

  it("run --watch shows progress live and exits 0 when the run completes", async () => {
    const watching = cli(["run", "tiny-cpu", "--watch", "--name", "watched"], { token: t.tokens.alice });
    let run;
    for (let i = 0; i < 100 && !run; i++) {
      run = await t.db.prisma.run.findFirst({ where: { name: "watched" } });
      if (!run) await new Promise((r) => setTimeout(r, 50));
    }
    // What the orchestrator does: transitions, then a step's metric points, then completion.
    await transitionRun(t.db.prisma, { runId: run!.id, to: "provisioning", actor: "scheduler", reason: "capacity" });
    await transitionRun(t.db.prisma, { runId: run!.id, to: "running", actor: "worker", reason: "ready" });
    const s = await t.db.prisma.metricSeries.create({ data: { runId: run!.id, key: "reward/mean" } });
    await t.db.prisma.metricPoint.create({ data: { seriesId: s.id, step: 0, wallTime: new Date(), value: 0.5 } });
    t.api.services.notifier.notify(run!.id);
    await new Promise((r) => setTimeout(r, 700));
    await transitionRun(t.db.prisma, { runId: run!.id, to: "completed", actor: "server", reason: "done" });
    t.api.services.notifier.notify(run!.id);
    const r = await watching;
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/created run/);
    expect(r.out).toMatch(/step 0\/3\s+reward\/mean=0.5000/);
    expect(r.out).toMatch(/running → completed/);
  });

  it("fork, compare and export", async () => {
    const a = await seedRun(t.db, t.users.alice, { name: "A", status: "completed", steps: 30, keys: ["loss", "reward"], checkpointSteps: [10, 20], rollouts: 5, config: { ...(JSON.parse((await cli(["run", "tiny-cpu", "--json"], { token: t.tokens.alice })).out) as { config: object }).config } });
    const fork = await cli(["fork", a.id, "--from-step", "15", "--set", "azr.batchSize=16", "--json"], { token: t.tokens.bob });
    expect(fork.code).toBe(0);
    const forked = JSON.parse(fork.out) as { id: string; parentRunId: string; currentStep: number };
    expect(forked).toMatchObject({ parentRunId: a.id, currentStep: 10 });
    const b = await seedRun(t.db, t.users.bob, { name: "B", status: "completed", steps: 20, keys: ["loss", "reward"], config: { azr: { batchSize: 16 } } });
    const cmp = await cli(["compare", a.id, b.id], { token: t.tokens.reader });
    expect(cmp.code).toBe(0);
    expect(cmp.out).toMatch(/config differences\nKEY\s+A \(\w{8}\)\s+B \(\w{8}\)/);
    expect(cmp.out).toMatch(/azr\.batchSize\s+4\s+16/);
    expect(cmp.out).toMatch(/^loss\s+\S+ \[/m);
    const csv = await cli(["export", a.id, "--format", "csv"], { token: t.tokens.reader });
    const lines = csv.out.trim().split("\n");
    expect(lines[0]).toBe("step,wall_time,key,value");
    expect(lines).toHaveLength(1 + 30 * 2);
    expect(lines[1]).toMatch(/^0,2026-01-01T00:00:00.000Z,loss,0$/);
    const jsonl = await cli(["export", a.id, "--format", "jsonl", "--keys", "loss", "--out", "a.jsonl"], { token: t.tokens.reader });
    expect(jsonl.err).toMatch(/wrote 30 steps to a.jsonl/);
    const first = JSON.parse(readFileSync(path.join(home, "a.jsonl"), "utf8").split("\n")[0]!);
    expect(first).toEqual({ step: 0, wallTime: "2026-01-01T00:00:00.000Z", values: { loss: 0 } });
    const rollouts = await cli(["export", a.id, "--format", "csv", "--what", "rollouts"], { token: t.tokens.reader });
    expect(rollouts.out).toMatch(/^id,step,taskType,role,purpose,valid,/);
    // Multi-line responses are quoted, not split.
    expect(rollouts.out).toContain('"<answer>def f(x):\n    return x * 0 # 50%_off</answer>"');
    const rolloutsJsonl = await cli(["export", a.id, "--format", "jsonl", "--what", "rollouts"], { token: t.tokens.reader });
    expect(rolloutsJsonl.out.trim().split("\n").map((l) => (JSON.parse(l) as { step: number }).step)).toHaveLength(5);
    expect((await cli(["export", a.id, "--format", "xml"], { token: t.tokens.reader })).code).toBe(EXIT.usage);
  });

  it("token create / ls / revoke", async () => {
    const created = await cli(["token", "create", "laptop", "--scope", "read", "--json"], { token: t.tokens.alice });
    const { token, record } = JSON.parse(created.out) as { token: string; record: { id: string } };
    expect(token).toMatch(/^azr_pat_/);
    const ls = await cli(["token", "ls"], { token: t.tokens.alice });
    expect(ls.out).toContain(record.id);
    expect(ls.out).not.toContain(token);
    expect((await cli(["token", "create", "root", "--scope", "admin"], { token: t.tokens.alice })).code).toBe(EXIT.unauthorized);
    expect((await cli(["token", "revoke", record.id], { token: t.tokens.alice })).out).toMatch(/revoked token/);
    expect((await cli(["ls"], { token })).code).toBe(EXIT.unauthorized);
    expect((await cli(["token", "frobnicate"], { token: t.tokens.alice })).code).toBe(EXIT.usage);
  });

  it("the azr binary: --help exits 0, an unknown command 2, an unreachable server 1 with a hint", () => {
    const bin = fileURLToPath(new URL("../bin/azr.js", import.meta.url));
    const help = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^azr — command line/);
    expect(spawnSync(process.execPath, [bin, "bogus"], { encoding: "utf8" }).status).toBe(2);
    const server = spawnSync(process.execPath, [bin, "server", "--help"], { encoding: "utf8" });
    expect(server.status).toBe(0);
    expect(server.stdout).toMatch(/^azr server — the AZR Platform control plane/);
    const down = spawnSync(process.execPath, [bin, "ls", "--url", "http://127.0.0.1:1", "--token", t.tokens.reader], { encoding: "utf8", env: { ...process.env, AZR_CONFIG_DIR: home } });
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/is the server running\?/);
  });
});
