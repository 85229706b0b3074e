#!/usr/bin/env node
// Runs every test suite (each vitest project, each Python unittest suite), prints a per-suite
// timing table and ends with one line "N passed, N failed" summing all of them.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const outDir = path.join(root, ".test-results");
mkdirSync(outDir, { recursive: true });
const only = process.argv.slice(2);
const rows = [];

function pythonInterpreter() {
  // Debian's python3 (where apt installs torch) is not necessarily the first python3 on PATH.
  for (const p of ["/usr/bin/python3", "/bin/python3"]) if (existsSync(p)) return p;
  return "python3";
}

function runVitest() {
  const json = path.join(outDir, "vitest.json");
  const started = Date.now();
  const args = ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${json}`];
  // Vitest projects are the workspaces' package names (@azr/...); other names are Python suites.
  const projects = only.filter((n) => n.startsWith("@"));
  if (only.length && !projects.length) return;
  for (const p of projects) args.push("--project", p);
  const budget = Number(process.env.AZR_VITEST_BUDGET_S ?? 1500);
  const r = spawnSync("npx", args, { cwd: root, stdio: "inherit", timeout: budget * 1000, killSignal: "SIGKILL" });
  const wall = (Date.now() - started) / 1000;
  if (r.error?.code === "ETIMEDOUT") {
    rows.push({ suite: "vitest", passed: 0, failed: 1, skipped: 0, seconds: wall, note: `exceeded its ${budget}s budget` });
    return;
  }
  if (!existsSync(json)) {
    rows.push({ suite: "vitest", passed: 0, failed: 1, skipped: 0, seconds: wall, note: `vitest exited ${r.status} without a report` });
    return;
  }
  const report = JSON.parse(readFileSync(json, "utf8"));
  const bySuite = new Map();
  for (const file of report.testResults) {
    const rel = path.relative(root, file.name);
    const parts = rel.split(path.sep);
    const suite = parts.length > 2 ? `${parts[0]}/${parts[1]}` : rel;
    const s = bySuite.get(suite) ?? { suite, passed: 0, failed: 0, skipped: 0, seconds: 0 };
    for (const a of file.assertionResults) {
      if (a.status === "passed") s.passed++;
      else if (a.status === "failed") s.failed++;
      else s.skipped++;
    }
    if (file.status === "failed" && file.assertionResults.length === 0) s.failed++; // file failed to load
    s.seconds += ((file.endTime ?? 0) - (file.startTime ?? 0)) / 1000;
    bySuite.set(suite, s);
  }
  rows.push(...bySuite.values());
  if (r.status !== 0 && ![...bySuite.values()].some((s) => s.failed > 0)) {
    rows.push({ suite: "vitest", passed: 0, failed: 1, skipped: 0, seconds: wall, note: `vitest exited ${r.status}` });
  }
}

function runPythonSuites() {
  const manifest = path.join(root, "scripts/python-suites.txt");
  const py = pythonInterpreter();
  for (const line of readFileSync(manifest, "utf8").split("\n")) {
    const t = line.trim();
    if (!t || t.startsWith("#")) continue;
    const [name, dir, budgetText] = t.split(/\s+/);
    const budget = Number(budgetText ?? 600);
    if (only.length && !only.includes(name)) continue;
    const started = Date.now();
    const r = spawnSync(py, ["-m", "unittest", "discover", "-s", dir, "-t", dir, "-v"], {
      cwd: root,
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      timeout: budget * 1000,
      killSignal: "SIGKILL",
    });
    const seconds = (Date.now() - started) / 1000;
    if (r.error?.code === "ETIMEDOUT") {
      process.stdout.write(`${r.stdout ?? ""}${r.stderr ?? ""}`);
      rows.push({ suite: name, passed: 0, failed: 1, skipped: 0, seconds, note: `exceeded its ${budget}s budget` });
      continue;
    }
    const out = `${r.stdout ?? ""}${r.stderr ?? ""}`;
    process.stdout.write(out);
    const ran = Number(/Ran (\d+) tests?/.exec(out)?.[1] ?? 0);
    const fail = /FAILED \(([^)]*)\)/.exec(out)?.[1] ?? "";
    const count = (k) => Number(new RegExp(`${k}=(\\d+)`).exec(fail)?.[1] ?? 0);
    const skipped = Number(/skipped=(\d+)/.exec(out.split("\n").slice(-5).join("\n"))?.[1] ?? 0);
    let failed = count("failures") + count("errors");
    if (r.status !== 0 && failed === 0) failed = 1; // crashed before reporting
    rows.push({ suite: name, passed: Math.max(0, ran - failed - skipped), failed, skipped, seconds });
  }
}

runVitest();
runPythonSuites();

const pad = (s, n) => String(s).padEnd(n);
console.log("\nsuite                          passed  failed  skipped  seconds");
for (const r of rows) {
  console.log(`${pad(r.suite, 30)} ${pad(r.passed, 7)} ${pad(r.failed, 7)} ${pad(r.skipped, 8)} ${r.seconds.toFixed(1)}${r.note ? `  (${r.note})` : ""}`);
}
const passed = rows.reduce((a, r) => a + r.passed, 0);
const failed = rows.reduce((a, r) => a + r.failed, 0);
const skipped = rows.reduce((a, r) => a + r.skipped, 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
