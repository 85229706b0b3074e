"use client";
import { useEffect, useRef } from "react";
import uPlot from "uplot";

export interface Line {
  label: string;
  color: string;
  xs: number[];
  ys: (number | null)[];
}

export const PALETTE = ["#5aa9ff", "#f0883e", "#3fb950", "#d2a8ff", "#f85149", "#e3b341", "#56d4dd", "#ff7eb6", "#a5d6ff", "#8b949e"];

/** Exponential moving average with the debiasing TensorBoard and W&B use; 0 = raw. */
export function smooth(ys: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return ys;
  let last = 0;
  let n = 0;
  return ys.map((y) => {
    if (y === null || !Number.isFinite(y)) return null;
    last = last * weight + (1 - weight) * y;
    n++;
    return last / (1 - weight ** n);
  });
}

/** Lines on different x values, aligned on the union of their x values (gaps as null). */
export function align(lines: Line[]): uPlot.AlignedData {
  const xs = [...new Set(lines.flatMap((l) => l.xs))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const cols = lines.map((l) => {
    const col: (number | null)[] = new Array(xs.length).fill(null);
    l.xs.forEach((x, i) => (col[index.get(x)!] = l.ys[i] ?? null));
    return col;
  });
  return [xs, ...cols] as uPlot.AlignedData;
}

let firstChartMarked = false;

/** A canvas line chart (uPlot: ~50 kB, draws tens of thousands of points per frame, no DOM per
 * point), resized with its container. The first chart drawn with data on a page load sets the
 * `azr:first-chart` performance mark (the web bench measures navigation start → this mark). */
export function Chart({ title, lines, timeAxis = false, height = 200, points = false }: { title: string; lines: Line[]; timeAxis?: boolean; height?: number; points?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const hasData = lines.some((l) => l.xs.length > 0);
  const shape = `${timeAxis}|${points}|${lines.map((l) => `${l.label}:${l.color}`).join(",")}`;

  useEffect(() => {
    const el = box.current;
    if (!el || !hasData) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      scales: { x: { time: timeAxis } },
      cursor: { drag: { x: true, y: false } },
      legend: { show: lines.length > 1 || true },
      axes: [
        { stroke: "#8b95a3", grid: { stroke: "#232a33" }, ticks: { stroke: "#2a313b" } },
        { stroke: "#8b95a3", grid: { stroke: "#232a33" }, ticks: { stroke: "#2a313b" }, size: 52 },
      ],
      series: [{ label: timeAxis ? "time" : "step" }, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 1.5, spanGaps: true, points: { show: points, size: 6 } }))],
      hooks: {
        draw: [
          (u: uPlot) => {
            if (!firstChartMarked && u.data[0].length > 0) {
              firstChartMarked = true;
              performance.mark("azr:first-chart");
            }
            el.dataset.drawn = String(u.data[0].length);
          },
        ],
      },
    };
    plot.current = new uPlot(opts, align(lines), el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt only when the set of lines changes; new data goes through setData below.
  }, [shape, hasData, height]);

  useEffect(() => {
    if (plot.current && hasData) plot.current.setData(align(lines));
  }, [lines, hasData]);

  return (
    <div className="chart" data-testid="chart" data-title={title}>
      <div className="title">{title}</div>
      {hasData ? <div ref={box} /> : <div className="empty">no data yet</div>}
    </div>
  );
}
