import { formatDuration } from '../units/duration.js';
import { sparkline, type Summary } from './stats.js';

const ms = (v: number | null): string => (v === null ? '-' : formatDuration(v));

/** The end-of-job summary, a few aligned lines. */
export function formatSummary(s: Summary, reason: string): string {
  const rate = s.successRate === null ? '-' : `${(s.successRate * 100).toFixed(1)}%`;
  return [
    `rpr summary (${reason})`,
    `  runs      ${s.runs}  ok ${s.successes}  failed ${s.failures}${s.timeouts ? ` (timed out ${s.timeouts})` : ''}  skipped ${s.skipped}`,
    `  success   ${rate}`,
    `  duration  min ${ms(s.minMs)}  median ${ms(s.medianMs)}  p95 ${ms(s.p95Ms)}  max ${ms(s.maxMs)}`,
    `  recent    ${sparkline(s.recentMs) || '-'}`,
  ].join('\n') + '\n';
}

export function clockTime(wall: number): string {
  return new Date(wall).toTimeString().slice(0, 8);
}
