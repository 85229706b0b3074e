import { PALETTE, smooth, type Line } from "../components/Chart.tsx";
import type { ChartSeries } from "./queries.ts";

/** The run page's charts: each gathers the keys matching its pattern (written by the step loop,
 * packages/orchestrator/src/metrics.ts), one line per key. */
export const CHART_GROUPS: { title: string; match: RegExp; label?: (key: string) => string }[] = [
  { title: "Reward (task type × role)", match: /^reward\//, label: (k) => k.slice("reward/".length) },
  { title: "Valid-proposal rate", match: /^propose\/[^/]+\/valid_rate$/, label: (k) => k.split("/")[1]! },
  { title: "Solve rate", match: /^solve\/[^/]+\/solve_rate$/, label: (k) => k.split("/")[1]! },
  { title: "Invalid proposals by reason", match: /^propose\/[^/]+\/invalid\//, label: (k) => `${k.split("/")[1]}: ${k.split("/")[3]}` },
  { title: "Learnability (mean)", match: /^propose\/[^/]+\/learnability_mean$/, label: (k) => k.split("/")[1]! },
  { title: "Learnability distribution (solved k of n)", match: /^propose\/[^/]+\/solved_\d+_of_\d+$/, label: (k) => `${k.split("/")[1]} ${k.split("/")[2]}` },
  { title: "Proposals per task type: generated, added to the buffer, duplicates", match: /^propose\/[^/]+\/(count|added|duplicates)$/, label: (k) => `${k.split("/")[1]} ${k.split("/")[2]}` },
  { title: "Format errors (unparseable answers) per task type × role", match: /^(propose|solve)\/[^/]+\/format_errors$/, label: (k) => `${k.split("/")[1]}.${k.split("/")[0]}` },
  { title: "Buffer size per task type", match: /^buffer\//, label: (k) => k.slice("buffer/".length) },
  { title: "Response length (tokens)", match: /^response_tokens\//, label: (k) => k.slice("response_tokens/".length) },
  { title: "Loss", match: /^train\/loss$/ },
  { title: "Grad norm", match: /^train\/grad_norm$/ },
  { title: "KL (approx, to old policy)", match: /^train\/approx_kl$/ },
  { title: "Clip fraction", match: /^train\/clip_fraction$/ },
  { title: "Entropy", match: /^train\/entropy$/ },
  { title: "Trainer throughput (tokens/s)", match: /^train\/tokens_per_s$/ },
  { title: "Step time breakdown (ms)", match: /^time\//, label: (k) => k.slice("time/".length).replace(/_ms$/, "") },
  // Periodic evaluation during training (packages/orchestrator/src/periodic-eval.ts): eval/<benchmark>/<score>.
  { title: "Evaluation pass@1 per benchmark", match: /^eval\/[^/]+\/pass@1$/, label: (k) => k.split("/")[1]! },
  { title: "Evaluation: accuracy and pass@k", match: /^eval\/[^/]+\/(accuracy|pass@(?!1$)\d+)$/, label: (k) => k.slice("eval/".length) },
  { title: "Evaluation: problems solved of total", match: /^eval\/[^/]+\/(solved|total)$/, label: (k) => k.slice("eval/".length) },
  // The seeding stage's figures, recorded once at step 0 (packages/orchestrator/src/run-attempt.ts).
  { title: "Seeding: seeds and proposer rounds", match: /^seeding\/(triplets|induction|triplet_rounds|induction_rounds)$/, label: (k) => k.slice("seeding/".length) },
  { title: "Seeding: valid-proposal rate", match: /^seeding\/[a-z]+_valid_rate$/, label: (k) => k.slice("seeding/".length).replace(/_valid_rate$/, "") },
  { title: "Seeding time (ms)", match: /^seeding\/[a-z]+_ms$/, label: (k) => k.slice("seeding/".length).replace(/_ms$/, "") },
  { title: "Advantage |mean|", match: /^advantage_abs\// , label: (k) => k.slice("advantage_abs/".length) },
];

export function groupKeys(keys: string[]): { title: string; keys: string[]; label: (k: string) => string }[] {
  const used = new Set<string>();
  const groups = CHART_GROUPS.map((g) => {
    const ks = keys.filter((k) => g.match.test(k)).sort();
    ks.forEach((k) => used.add(k));
    return { title: g.title, keys: ks, label: g.label ?? ((k: string) => k) };
  });
  const rest = keys.filter((k) => !used.has(k)).sort();
  return [...groups.filter((g) => g.keys.length > 0), ...rest.map((k) => ({ title: k, keys: [k], label: (x: string) => x }))];
}

/** A downsampled series as a line: each bucket's first x and its mean. Time axes in seconds (uPlot). */
export function toLine(s: ChartSeries | undefined, label: string, color: string, smoothing: number, timeAxis = false): Line {
  return {
    label,
    color,
    xs: timeAxis ? (s?.xs ?? []).map((x) => x / 1000) : (s?.xs ?? []),
    ys: smooth(s?.means ?? [], smoothing),
  };
}

export function color(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}
