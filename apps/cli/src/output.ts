// Terminal output: colours only on a TTY (and never with NO_COLOR), aligned tables, JSON for scripts.

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
  cwd: string;
}

export function processIo(): Io {
  return {
    out: (t) => process.stdout.write(t.endsWith("\n") ? t : `${t}\n`),
    err: (t) => process.stderr.write(t.endsWith("\n") ? t : `${t}\n`),
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY),
    cwd: process.cwd(),
  };
}

export function colors(io: Io) {
  const on = io.isTTY && !io.env.NO_COLOR;
  const wrap = (code: number) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);
  return { bold: wrap(1), dim: wrap(2), red: wrap(31), green: wrap(32), yellow: wrap(33), cyan: wrap(36) };
}

export function statusColor(io: Io, status: string): string {
  const c = colors(io);
  if (status === "completed") return c.green(status);
  if (status === "failed") return c.red(status);
  if (status === "cancelled" || status === "paused") return c.yellow(status);
  if (status === "running" || status === "checkpointing") return c.cyan(status);
  return status;
}

/** Columns padded to their widest cell; ANSI codes do not count towards the width. */
export function table(headers: string[], rows: string[][]): string {
  const ansi = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, "g");
  const visible = (s: string) => s.replace(ansi, "").length;
  const widths = headers.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ""))));
  const line = (cells: string[]) => cells.map((c, i) => c + " ".repeat(Math.max(0, widths[i]! - visible(c)))).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined) return "-";
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : v.toFixed(4);
}

export function json(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}
