"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import type { ComponentProps } from "react";
import type { RunStatus } from "../lib/api.ts";

/** A link that prefetches its page when hovered rather than when seen: a page's first chart
 * should not wait behind the prefetches of every page it links to (bench/web). */
export function HoverLink({ href, ...rest }: { href: string } & Omit<ComponentProps<typeof Link>, "href" | "prefetch">) {
  const router = useRouter();
  return <Link href={href} prefetch={false} onMouseEnter={() => router.prefetch(href)} {...rest} />;
}

export function StatusBadge({ status }: { status: RunStatus | string }) {
  return <span className={`badge ${status}`} data-testid="status">{status}</span>;
}

export function Progress({ current, total }: { current: number; total: number }) {
  const pct = total > 0 ? Math.min(100, (100 * current) / total) : 0;
  return (
    <div className="row" style={{ gap: 6 }}>
      <div className="progress" title={`${pct.toFixed(0)}%`}><div style={{ width: `${pct}%` }} /></div>
      <span className="muted mono">{current}/{total}</span>
    </div>
  );
}

export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return Number(v.toFixed(digits)).toString();
}

export function ago(iso: string | null | undefined): string {
  if (!iso) return "–";
  const s = (Date.now() - new Date(iso).getTime()) / 1000;
  if (s < 60) return `${Math.max(0, Math.round(s))}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return new Date(iso).toLocaleDateString();
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  return <p className="error" role="alert">{error instanceof Error ? error.message : String(error)}</p>;
}

export const TERMINAL = new Set(["completed", "failed", "cancelled"]);

/** Sparkline: a tiny SVG path of a short series (the runs list). */
export function Sparkline({ values, width = 90, height = 22 }: { values: number[]; width?: number; height?: number }) {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length < 2) return <span className="muted">–</span>;
  const lo = Math.min(...v), hi = Math.max(...v);
  const span = hi - lo || 1;
  const d = v.map((x, i) => `${i === 0 ? "M" : "L"}${((i / (v.length - 1)) * width).toFixed(1)},${(height - 2 - ((x - lo) / span) * (height - 4)).toFixed(1)}`).join("");
  return <svg width={width} height={height} aria-hidden><path d={d} fill="none" stroke="#5aa9ff" strokeWidth="1.4" /></svg>;
}
