#!/usr/bin/env node
// Speed figures for rpr, each measured side by side with its baseline in the same run.
// Targets (issue 2): per-run overhead within 1.3x of a shell loop; start-time error p99 < 5 ms and
// drift < 5 ms over 100 runs at 100 ms. Prints a table; exits 0 whether or not targets are met.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const RPR = fileURLToPath(new URL('../dist/cli/bin.js', import.meta.url));
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
const timeMs = (file, args) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

function overhead() {
  const rpr = [];
  const shell = [];
  for (let i = 0; i < REPEAT; i++) {
    shell.push(timeMs('/bin/sh', ['-c', 'i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i+1)); done']));
    rpr.push(timeMs(process.execPath, [RPR, 'count', '--times', '1000', '--', 'true']));
  }
  const r = median(rpr) / 1000;
  const s = median(shell) / 1000;
  return { name: 'per-run overhead (count --times 1000 -- true)', value: `${r.toFixed(2)} ms/run`, baseline: `${s.toFixed(2)} ms/run (sh loop)`, ratio: r / s, target: 1.3 };
}

function timing(everyMs, runs) {
  const out = execFileSync(process.execPath, [RPR, 'interval', '--every', `${everyMs}ms`, '--times', String(runs), '--', 'date', '+%s%N'], { encoding: 'utf8' });
  const ns = out.trim().split('\n').map((l) => BigInt(l));
  const errors = ns.map((t, k) => Math.abs(Number(t - ns[0] - BigInt(k * everyMs) * 1_000_000n) / 1e6));
  return { p50: quantile(errors, 0.5), p99: quantile(errors, 0.99), drift: errors.at(-1) };
}

function startup() {
  const rpr = [];
  const node = [];
  for (let i = 0; i < 10; i++) {
    node.push(timeMs(process.execPath, ['-e', '0']));
    rpr.push(timeMs(process.execPath, [RPR, '--version']));
  }
  return { name: 'start-up (rpr --version)', value: `${median(rpr).toFixed(1)} ms`, baseline: `${median(node).toFixed(1)} ms (node -e 0)`, ratio: median(rpr) / median(node), target: null };
}

const rows = [overhead()];
const t = timing(100, 100);
rows.push({ name: 'start-time error p50, 100 runs @100ms', value: `${t.p50.toFixed(2)} ms`, baseline: '0 ms (ideal grid)', ratio: null, target: null });
rows.push({ name: 'start-time error p99, 100 runs @100ms', value: `${t.p99.toFixed(2)} ms`, baseline: '0 ms (ideal grid)', ratio: null, target: '< 5 ms', met: t.p99 < 5 });
rows.push({ name: 'drift of the last run, 100 runs @100ms', value: `${t.drift.toFixed(2)} ms`, baseline: '0 ms (ideal grid)', ratio: null, target: '< 5 ms', met: t.drift < 5 });
rows.push(startup());

console.log(`rpr bench: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load ${os.loadavg()[0].toFixed(2)}, medians of ${REPEAT}`);
for (const r of rows) {
  const met = r.met ?? (typeof r.target === 'number' ? r.ratio <= r.target : null);
  const verdict = met === null ? '' : met ? '  target met' : `  target NOT met (${typeof r.target === 'number' ? `<= ${r.target}x` : r.target})`;
  console.log(`${r.name.padEnd(48)} ${r.value.padStart(12)}  vs ${r.baseline}${r.ratio ? `  = ${r.ratio.toFixed(2)}x` : ''}${verdict}`);
}
