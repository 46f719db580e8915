import type { JobEvent } from '../job/events.js';

/** Duration samples kept for quantiles; beyond this, a uniform reservoir keeps memory flat. */
const RESERVOIR = 10_000;
const SPARK_RUNS = 40;

export interface Summary {
  runs: number;
  successes: number;
  failures: number;
  timeouts: number;
  skipped: number;
  successRate: number | null;
  minMs: number | null;
  medianMs: number | null;
  p95Ms: number | null;
  maxMs: number | null;
  /** Durations of the most recent runs, oldest first, for the sparkline. */
  recentMs: number[];
  /** How each of those runs ended, same order. */
  recentResults: RunMark[];
  /** Durations sampled for the quantiles (a uniform sample of every run), sorted. */
  sampleMs: number[];
}

export type RunMark = 'ok' | 'failed' | 'timeout';

export function createStats(random: () => number = Math.random) {
  const s = { runs: 0, successes: 0, failures: 0, timeouts: 0, skipped: 0 };
  let min = Infinity;
  let max = -Infinity;
  const sample: number[] = [];
  const recent: number[] = [];
  const marks: RunMark[] = [];
  return {
    observe(event: JobEvent): void {
      if (event.type === 'skipped') s.skipped += event.count;
      if (event.type !== 'run-end') return;
      const { result } = event;
      s.runs++;
      if (result.success) s.successes++;
      else s.failures++;
      if (result.timedOut) s.timeouts++;
      const ms = result.durationMs;
      min = Math.min(min, ms);
      max = Math.max(max, ms);
      if (sample.length < RESERVOIR) sample.push(ms);
      else {
        const slot = Math.floor(random() * s.runs);
        if (slot < RESERVOIR) sample[slot] = ms;
      }
      recent.push(ms);
      marks.push(result.timedOut ? 'timeout' : result.success ? 'ok' : 'failed');
      if (recent.length > SPARK_RUNS) {
        recent.shift();
        marks.shift();
      }
    },
    summary(): Summary {
      const sorted = [...sample].sort((a, b) => a - b);
      const q = (p: number): number | null => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! : null);
      return {
        ...s,
        successRate: s.runs ? s.successes / s.runs : null,
        minMs: s.runs ? min : null,
        medianMs: q(0.5),
        p95Ms: q(0.95),
        maxMs: s.runs ? max : null,
        recentMs: [...recent],
        recentResults: [...marks],
        sampleMs: sorted,
      };
    },
  };
}

const BARS = '▁▂▃▄▅▆▇█';

export function sparkline(values: number[]): string {
  if (values.length === 0) return '';
  const lo = Math.min(...values);
  const span = Math.max(...values) - lo;
  return values.map((v) => BARS[span === 0 ? 0 : Math.round(((v - lo) / span) * (BARS.length - 1))]).join('');
}

/**
 * Durations in `rows` buckets of equal width between the shortest and the longest: the shape of
 * the distribution at a glance (a slow tail, two clusters). Empty for fewer than two distinct values.
 */
export function histogram(sorted: readonly number[], rows = 6): { upToMs: number; count: number }[] {
  if (sorted.length === 0) return [];
  const lo = sorted[0]!;
  const hi = sorted[sorted.length - 1]!;
  if (hi === lo) return [];
  const width = (hi - lo) / rows;
  const out = Array.from({ length: rows }, (_, i) => ({ upToMs: lo + width * (i + 1), count: 0 }));
  for (const v of sorted) out[Math.min(rows - 1, Math.floor((v - lo) / width))]!.count++;
  return out;
}
