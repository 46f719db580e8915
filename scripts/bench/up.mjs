// `rpr up` under load (issue 17): N jobs every second in one process, next to N separate
// `rpr interval --every 1s` processes doing the same, each for the same time. Reported: the start-time
// error (start minus due) p99 of each job, as the median over jobs and the worst job; rpr's CPU time
// (the node processes; the launchers and the commands are not counted); rpr's RSS.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ENV, log, median, ms, NODE, quantile, row, RPR, unmeasured } from './common.mjs';

const JOBS = Number(process.env.BENCH_UP_JOBS ?? 200);
const SECONDS = Number(process.env.BENCH_UP_SECONDS ?? 60);
/** Runs in the first seconds (200 processes starting on 2 cores) are not the steady state. */
const WARMUP_MS = 10_000;
/** BENCH_UP_BASELINE=0: rpr up alone (the N processes take the machine for minutes on 2 cores). */
const BASELINE = process.env.BENCH_UP_BASELINE !== '0';
const sleep = (msec) => new Promise((r) => setTimeout(r, msec));
const TICK = 100; // clock ticks per second (USER_HZ)

function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICK;
  } catch {
    return 0;
  }
}
function rssMb(pid) {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}
const exited = (child) => new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on('exit', resolve)));

/** Per job, the p99 of start - due over its steady runs; then the median job and the worst. */
function errors(byJob, since) {
  const p99s = [...byJob.values()]
    .map((runs) => runs.filter((r) => r.due >= since).map((r) => r.start - r.due))
    .filter((xs) => xs.length > 0)
    .map((xs) => quantile(xs, 0.99));
  return { median: median(p99s), worst: Math.max(...p99s), jobs: p99s.length };
}

async function oneProcess(tmp) {
  const file = path.join(tmp, 'up-load.toml');
  writeFileSync(file, Array.from({ length: JOBS }, (_, i) => `[jobs.j${i}]\nschedule = "interval"\nevery = "1s"\ncommand = ["true"]\n`).join('\n'));
  const history = path.join(tmp, 'up-load.jsonl');
  const t0 = Date.now();
  const up = spawn(NODE, [RPR, 'up', '--config', file, '--history', history], { stdio: ['ignore', 'ignore', 'ignore'], env: ENV });
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, rssMb(up.pid))), 500);
  await sleep(SECONDS * 1000);
  const cpu = cpuMs(up.pid);
  clearInterval(sampler);
  up.kill('SIGTERM');
  await exited(up);
  const byJob = new Map();
  for (const line of readFileSync(history, 'utf8').split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line);
    if (r.dueWall === undefined) continue;
    if (!byJob.has(r.job)) byJob.set(r.job, []);
    byJob.get(r.job).push({ due: r.dueWall, start: r.startWall });
  }
  return { ...errors(byJob, t0 + WARMUP_MS), cpu, rss };
}

async function separateProcesses() {
  const t0 = Date.now();
  const byJob = new Map();
  const children = Array.from({ length: JOBS }, (_, i) => {
    const child = spawn(NODE, [RPR, 'interval', '--every', '1s', '--json', '--name', `j${i}`, '--', 'true'], { stdio: ['ignore', 'pipe', 'ignore'], env: ENV });
    const runs = [];
    byJob.set(i, runs);
    let buffer = '';
    child.stdout.on('data', (d) => {
      buffer += d;
      const lines = buffer.split('\n');
      buffer = lines.pop();
      for (const line of lines) {
        const r = JSON.parse(line);
        runs.push({ due: Date.parse(r.due), start: Date.parse(r.start) });
      }
    });
    return child;
  });
  let rss = 0;
  const sampler = setInterval(
    () =>
      (rss = Math.max(
        rss,
        children.reduce((sum, c) => sum + rssMb(c.pid), 0),
      )),
    500,
  );
  await sleep(SECONDS * 1000);
  const cpu = children.reduce((sum, c) => sum + cpuMs(c.pid), 0);
  clearInterval(sampler);
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map(exited));
  return { ...errors(byJob, t0 + WARMUP_MS), cpu, rss };
}

export async function upLoad(tmp) {
  log(`rpr up: ${JOBS} jobs every second, ${SECONDS}s, next to ${JOBS} processes`);
  const name = `${JOBS} jobs every 1s for ${SECONDS}s`;
  try {
    const one = await oneProcess(tmp);
    const errorText = (x) => `p99 ${ms(x.median, 1)} (median job), ${ms(x.worst, 1)} (worst of ${x.jobs})`;
    log(`  rpr up: ${errorText(one)}; CPU ${ms(one.cpu, 0)}; peak RSS ${one.rss.toFixed(0)} MB`);
    if (!BASELINE) {
      row('rpr up', `${name}, \`rpr up\`: start-time error (start - due), after ${WARMUP_MS / 1000}s`, errorText(one), 'not measured (BENCH_UP_BASELINE=0)');
      row('rpr up', `${name}: CPU time of rpr's node process`, ms(one.cpu, 0), 'not measured');
      row('rpr up', `${name}: peak RSS`, `${one.rss.toFixed(0)} MB`, 'not measured');
      return;
    }
    const many = await separateProcesses();
    row('rpr up', `${name}, \`rpr up\`: start-time error (start - due), after ${WARMUP_MS / 1000}s`, errorText(one), `${errorText(many)} (${JOBS} \`rpr interval\` processes)`);
    row('rpr up', `${name}: CPU time of rpr's node processes`, ms(one.cpu, 0), `${ms(many.cpu, 0)} (${JOBS} processes)`, { ratio: `${(one.cpu / many.cpu).toFixed(2)}x` });
    row('rpr up', `${name}: peak RSS`, `${one.rss.toFixed(0)} MB`, `${many.rss.toFixed(0)} MB (${JOBS} processes, summed)`, { ratio: `${(one.rss / many.rss).toFixed(2)}x` });
  } catch (error) {
    unmeasured('rpr up', name, error);
  }
}
