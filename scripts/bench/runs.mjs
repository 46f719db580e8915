// What a run costs once rpr is up (issue 7's and issue 14's per-run figures, at rpr's usual memory
// and grown to about 200 MB), and how close to the grid runs start.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ENV, log, median, ms, NODE, pairedRatio, quantile, REPEAT, row, RPR, timeMs, timeWithRss } from './common.mjs';

/** Memory held by rpr for the "grown" figures: with rpr's own ~60 MB, about 200 MB of RSS. */
const BALLAST_MB = 140;
const BALLAST = `data:text/javascript,globalThis.rprBenchBallast=Buffer.alloc(${BALLAST_MB}*2**20,1)`;

const FLOOR = fileURLToPath(new URL('./launcher-floor.mjs', import.meta.url));
const launcherFloor = (n) => [NODE, [FLOOR, String(n)]];
const shLoop = (n) => ['/bin/sh', ['-c', `i=0; while [ $i -lt ${n} ]; do /bin/true; i=$((i+1)); done`]];
/** `rpr count --times n -- true`, launcher or execa, at rpr's own memory or grown. */
const rprCount = (n, { execa = false, grown = false } = {}) => [
  NODE,
  [...(grown ? ['--import', BALLAST] : []), RPR, 'count', '--times', String(n), '--', 'true'],
  execa ? { env: { ...ENV, RPR_LAUNCHER: '0' } } : {},
];

/**
 * The marginal cost of a run: (time of n2 runs - time of n1 runs) / (n2 - n1), so that start-up
 * (measured on its own) does not count. All variants take turns at n1, then at n2, at least five
 * times (a difference of two whole processes is noisy on a shared machine); returns the per-run
 * figures of each, repeat by repeat, and the largest RSS seen.
 */
async function marginal(variants, n1, n2) {
  const per = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const rss = Object.fromEntries(Object.keys(variants).map((k) => [k, 0]));
  for (let i = 0; i < Math.max(5, REPEAT); i++) {
    const small = {};
    for (const [k, make] of Object.entries(variants)) small[k] = await timeWithRss(...make(n1));
    for (const [k, make] of Object.entries(variants)) {
      const big = await timeWithRss(...make(n2));
      per[k].push((big.ms - small[k].ms) / (n2 - n1));
      rss[k] = Math.max(rss[k], big.rss);
    }
  }
  return { per, rss };
}

export async function perRun() {
  log('per-run cost');
  const perRun = (x) => `${x.toFixed(3)} ms/run`;
  const mb = (x) => `${Math.round(x)} MB`;
  const fast = await marginal({ shell: shLoop, launcher: (n) => rprCount(n), grown: (n) => rprCount(n, { grown: true }), floor: launcherFloor }, 200, 1200);
  const [sh, launcher, grown, floor] = [fast.per.shell, fast.per.launcher, fast.per.grown, fast.per.floor].map(median);
  const vsShell = pairedRatio(fast.per.launcher, fast.per.shell);
  row(
    'Runs',
    `per-run cost of \`rpr count -- true\` (marginal: 1,200 runs minus 200; runs started by the launcher; rpr at ${mb(fast.rss.launcher)} RSS)`,
    perRun(launcher),
    `${perRun(sh)} (\`/bin/true\` in a \`sh\` while loop)`,
    {
      ratio: `${vsShell.toFixed(2)}x`,
      target: '<= 1.3x',
      met: vsShell <= 1.3,
    },
  );
  row('Runs', 'floor: the launcher alone, driven by a bare Node script (`true` started back to back, no job around it)', perRun(floor), `${perRun(sh)} (the \`sh\` loop)`, {
    ratio: `${pairedRatio(fast.per.floor, fast.per.shell).toFixed(2)}x`,
  });
  const growth = pairedRatio(fast.per.grown, fast.per.launcher);
  row('Runs', `the same with rpr grown to ${mb(fast.rss.grown)} RSS`, perRun(grown), `${perRun(launcher)} (at ${mb(fast.rss.launcher)})`, {
    ratio: `${growth.toFixed(2)}x`,
    target: "does not grow with rpr's memory (<= 1.2x)",
    met: growth <= 1.2,
  });
  // Through execa (RPR_LAUNCHER=0, or no python3): Node forks itself for each run, so the cost grows
  // with rpr's memory. Fewer runs: at 200 MB each costs tens of milliseconds.
  const slow = await marginal({ shell: shLoop, execa: (n) => rprCount(n, { execa: true }), grown: (n) => rprCount(n, { execa: true, grown: true }) }, 50, 250);
  const [sh2, execa, execaGrown] = [slow.per.shell, slow.per.execa, slow.per.grown].map(median);
  row('Runs', `per-run cost through execa (\`RPR_LAUNCHER=0\`, or no python3; 250 runs minus 50; rpr at ${mb(slow.rss.execa)} RSS)`, perRun(execa), `${perRun(sh2)} (the \`sh\` loop)`, {
    ratio: `${pairedRatio(slow.per.execa, slow.per.shell).toFixed(2)}x`,
  });
  row('Runs', `the same through execa with rpr grown to ${mb(slow.rss.grown)} RSS`, perRun(execaGrown), `${perRun(execa)} (at ${mb(slow.rss.execa)})`, {
    ratio: `${pairedRatio(slow.per.grown, slow.per.execa).toFixed(2)}x`,
  });
  const whole = [];
  for (let i = 0; i < REPEAT; i++) whole.push({ rpr: timeMs(...rprCount(1200).slice(0, 2)) / 1200, shell: timeMs(...shLoop(1200)) / 1200 });
  const wr = median(whole.map((w) => w.rpr));
  const ws = median(whole.map((w) => w.shell));
  row('Runs', 'with start-up included (`rpr count --times 1200 -- true`, whole process / 1,200)', perRun(wr), `${perRun(ws)} (the \`sh\` loop, whole process / 1,200)`, {
    ratio: `${pairedRatio(
      whole.map((w) => w.rpr),
      whole.map((w) => w.shell),
    ).toFixed(2)}x`,
  });
}

/** Start times of `rpr interval --every EVERY --times N -- date +%s%N`, against the ideal grid. */
function timingOnce(everyMs, runs) {
  const out = execFileSync(NODE, [RPR, 'interval', '--every', `${everyMs}ms`, '--times', String(runs), '--', 'date', '+%s%N'], { encoding: 'utf8', env: ENV });
  return gridErrors(out, everyMs);
}

/** The same grid kept by a shell loop that sleeps EVERY after each run (what rpr replaces). */
function sleepLoopOnce(everyMs, runs) {
  const out = execFileSync('/bin/sh', ['-c', `i=0; while [ $i -lt ${runs} ]; do date +%s%N; sleep ${everyMs / 1000}; i=$((i+1)); done`], { encoding: 'utf8' });
  return gridErrors(out, everyMs);
}

/**
 * Start times against the ideal grid. Run 1 is left out (when it starts is start-up). A run that
 * started a slot late because the previous one overran it (--on-overlap skip, at 10 ms under load)
 * stands for the slot it ran in: slots are counted from the gap to the previous run, rounded. The
 * grid is anchored on the earliest run, so errors are lateness >= 0 (p50, p99); drift is the last
 * run's offset minus the second run's, signed.
 */
function gridErrors(out, everyMs) {
  const t = out
    .trim()
    .split('\n')
    .map((l) => Number(BigInt(l) / 1000n) / 1000);
  let slot = 0;
  const offsets = [];
  for (let k = 1; k < t.length; k++) {
    slot += Math.max(1, Math.round((t[k] - t[k - 1]) / everyMs));
    offsets.push(t[k] - t[0] - slot * everyMs);
  }
  const anchor = Math.min(...offsets);
  const late = offsets.map((o) => o - anchor);
  return { p50: quantile(late, 0.5), p99: quantile(late, 0.99), drift: offsets.at(-1) - offsets[0], skipped: slot - (t.length - 1) };
}

export function timing() {
  log('start-time error');
  for (const [everyMs, runs] of [
    [10, 300],
    [100, 100],
    [1000, 10],
  ]) {
    const rpr = [];
    const loop = [];
    for (let i = 0; i < REPEAT; i++) {
      rpr.push(timingOnce(everyMs, runs));
      loop.push(sleepLoopOnce(everyMs, runs));
    }
    const m = (xs, key) => median(xs.map((x) => x[key]));
    const label = everyMs >= 1000 ? `${everyMs / 1000} s` : `${everyMs} ms`;
    const strict = everyMs === 100;
    const reference = (key) => `0 ms (ideal grid); a \`sleep\` loop: ${ms(m(loop, key))}`;
    row('Timing', `start-time error p50, ${runs} runs every ${label}`, ms(m(rpr, 'p50')), reference('p50'));
    row('Timing', `start-time error p99, ${runs} runs every ${label}`, ms(m(rpr, 'p99')), reference('p99'), strict ? { target: '< 5 ms', met: m(rpr, 'p99') < 5 } : {});
    const skipped = m(rpr, 'skipped');
    row('Timing', `drift of run ${runs} (${label} grid)`, ms(m(rpr, 'drift')), reference('drift'), {
      ...(strict ? { target: '< 5 ms', met: Math.abs(m(rpr, 'drift')) < 5 } : {}),
      ...(skipped > 0 ? { note: `${skipped} slots skipped: a run overran its slot` } : {}),
    });
  }
}
