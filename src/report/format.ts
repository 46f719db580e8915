import { formatDuration } from '../units/duration.js';
import { paint as makePaint, type Paint } from './colour.js';
import { histogram, sparkline, type RunMark, type Summary } from './stats.js';

const ms = (v: number | null): string => (v === null ? '-' : formatDuration(v));
const BAR = 24;

/** One cell per recent run: how it ended. */
function resultStrip(marks: readonly RunMark[], p: Paint): string {
  return marks.map((m) => (m === 'ok' ? p.green('✓') : m === 'timeout' ? p.yellow('⧗') : p.red('✗'))).join('');
}

function histogramLines(s: Summary, p: Paint): string[] {
  const rows = histogram(s.sampleMs);
  const most = Math.max(1, ...rows.map((r) => r.count));
  const label = rows.map((r) => `≤ ${formatDuration(r.upToMs)}`);
  const pad = Math.max(0, ...label.map((l) => l.length));
  return rows.map((r, i) => `  ${i === 0 ? 'spread  ' : '        '}  ${label[i]!.padStart(pad)} ${p.dim('│')}${'█'.repeat(Math.round((r.count / most) * BAR))}${r.count ? ` ${r.count}` : ''}`);
}

/** The end-of-job summary, a few aligned lines; coloured where the stream takes it (colour.ts). */
export function formatSummary(s: Summary, reason: string, p: Paint = makePaint(false)): string {
  const rate = s.successRate === null ? '-' : `${(s.successRate * 100).toFixed(1)}%`;
  const rateShown = s.successRate === null ? rate : s.successRate >= 0.99 ? p.green(rate) : s.successRate >= 0.9 ? p.yellow(rate) : p.red(rate);
  const failed = `failed ${s.failures}${s.timeouts ? ` (timed out ${s.timeouts})` : ''}`;
  return `${[
    `rpr summary (${reason})`,
    `  runs      ${s.runs}  ok ${s.successes}  ${s.failures ? p.red(failed) : failed}  skipped ${s.skipped}`,
    `  success   ${rateShown}`,
    `  duration  min ${ms(s.minMs)}  median ${ms(s.medianMs)}  p95 ${ms(s.p95Ms)}  max ${ms(s.maxMs)}`,
    ...histogramLines(s, p),
    `  recent    ${sparkline(s.recentMs) || '-'}`,
    ...(s.recentResults.length ? [`            ${resultStrip(s.recentResults, p)}`] : []),
  ].join('\n')}\n`;
}

export function clockTime(wall: number): string {
  return new Date(wall).toTimeString().slice(0, 8);
}
