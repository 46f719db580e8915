// What the benchmark's parts share: where rpr is, the environment it runs in, statistics, timing a
// whole process, and the table of figures (each rpr's value next to its baseline's).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const RPR = path.join(ROOT, 'dist/cli/bin.js');
export const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3));
/** No config file, no user plugins: rpr as installed, nothing of the machine's. */
export const ENV = { ...process.env, RPR_CONFIG: '', XDG_CONFIG_HOME: '/nonexistent', RPR_PLUGIN_DIR: '/nonexistent' };
export const NODE = process.execPath;

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
export const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))];
export const ms = (x, digits = 2) => `${x.toFixed(digits)} ms`;
export const log = (text) => process.stderr.write(`${text}\n`);

/** Wall time of one process to completion, output discarded. */
export function timeMs(file, args, options = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env: ENV, ...options });
  const took = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return took;
}

/**
 * Wall time of one process, and its largest VmRSS (sampled every 50 ms from /proc) while it ran.
 * Output discarded.
 */
export function timeWithRss(file, args, options = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env: ENV, ...options });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    let rss = 0;
    const timer = setInterval(() => {
      try {
        rss = Math.max(rss, Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
      } catch {
        // gone
      }
    }, 50);
    child.on('close', (code) => {
      clearInterval(timer);
      const took = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${err}`));
      else resolve({ ms: took, rss });
    });
  });
}

/**
 * Runs each variant `rounds` times, in turn (A B C A B C ...), so that they share whatever the
 * machine is doing; returns each variant's list of wall times, round by round.
 */
export function interleaved(variants, rounds) {
  const t = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let i = 0; i < rounds; i++) for (const [k, [file, args, options]] of Object.entries(variants)) t[k].push(timeMs(file, args, options));
  return t;
}

/** Median of the round-by-round ratios a[i] / b[i]: what the ratio was while both ran alike. */
export const pairedRatio = (a, b) => median(a.map((x, i) => x / b[i]));
/** Median of the round-by-round differences a[i] - b[i]. */
export const pairedDifference = (a, b) => median(a.map((x, i) => x - b[i]));

export const rows = [];
/** One figure: rpr's value, the baseline's, their ratio (or difference), the target and whether it is met. */
export function row(section, name, value, baseline, { ratio, target, met, note, floor } = {}) {
  rows.push({ section, name, value, baseline, ratio, target, met, note, floor });
  log(`  ${name}: ${value} vs ${baseline}${ratio ? ` = ${ratio}` : ''}${met === undefined ? '' : met ? '  (target met)' : '  (target NOT met)'}`);
}

/** A figure that could not be measured (an API missing, a run failing): said in the table, not hidden. */
export function unmeasured(section, name, error, target) {
  rows.push({ section, name, value: 'not measured', baseline: '', ratio: '', target, met: false, note: String(error?.message ?? error).split('\n')[0] });
  log(`  ${name}: NOT MEASURED: ${error?.message ?? error}`);
}
