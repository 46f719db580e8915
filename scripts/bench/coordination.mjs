#!/usr/bin/env node
// Claim latency of --coordinate (issue 19), side by side with a Redis PING round trip on the same
// server, in the same process and the same second (a claim and a PING alternate). A claim is what
// the job loop waits for when a slot is reached: the coordinated schedule's `claim` (dist/coordinate)
// - one Lua script (slot, lease, shape) - won each time, as --on-overlap skip (the default) makes it,
// its lease given back after each run. Measured against a redis-server the script starts on a free
// loopback port: alone, and with a replica (every claim then waits for the replica's acknowledgement,
// WAIT 1). The slots are on a made-up clock, so that 2,000 can be won in a second: Redis's check
// that a slot is due (one TIME in the script, microseconds) is not made. Needs `npm run build` and
// redis-server.
//
//   node scripts/bench/coordination.mjs      prints the rows as markdown (BENCH_CLAIMS=N claims, default 2000)
//   import { benchCoordination } from './bench/coordination.mjs' (scripts/bench.mjs does)
//   await benchCoordination({ row })         calls bench.mjs's row(section, name, value, baseline, { ratio })
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECTION = 'Coordination';
let jobs = 0;

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))];
const ms = (x) => `${x.toFixed(3)} ms`;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server on a free loopback port, without persistence; resolves once it accepts connections. */
async function redisServer(dir, extra = []) {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${log}`)), 10_000);
    child.stdout.on('data', (chunk) => {
      log += chunk;
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout.resume();
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${log}`)));
  });
  return { port, child };
}

/** p50 and p99 of `count` claims and `count` PINGs, alternating, against Redis on `port`. */
async function measure(port, count) {
  const { coordinate } = await import(pathToFileURL(path.join(ROOT, 'dist/coordinate/index.js')).href);
  const { Redis } = await import('ioredis');
  const origin = 1_900_000_000_000;
  let now = origin;
  const inner = { describe: 'bench', first: () => null, after: () => null };
  const job = coordinate(inner, {
    url: `redis://127.0.0.1:${port}`,
    name: `bench-${process.pid}-${++jobs}`,
    onLoss: 'skip',
    slots: { kind: 'grid', everyMs: 1000, firstDelayMs: 0, startWall: origin },
    jitterMs: 0,
    skipOverlap: true,
    warn: (line) => process.stderr.write(`${line}\n`),
    verbose: (line) => process.env.BENCH_DEBUG && process.stderr.write(`${line}\n`),
    wallNow: () => now,
  });
  const ping = new Redis({ port, host: '127.0.0.1' });
  const claims = [];
  const pings = [];
  try {
    await job.schedule.first({ nowAt: 0, nowWall: now });
    for (let i = -50; i < count; i++) {
      now = origin + (i + 50) * 1000;
      const t0 = performance.now();
      const answer = await job.schedule.claim({ wall: now });
      const t1 = performance.now();
      if (answer !== 'run') throw new Error(`claim ${i} answered ${JSON.stringify(answer)}`);
      job.schedule.runEnded({ dueWall: now, endWall: now + 1 });
      const t2 = performance.now();
      await ping.ping();
      const t3 = performance.now();
      // (The first 50 warm up the connection, the script cache and the JIT.)
      if (i >= 0) {
        claims.push(t1 - t0);
        pings.push(t3 - t2);
      }
    }
  } finally {
    ping.disconnect();
    await job.close();
  }
  return { claims, pings };
}

/**
 * The figures, as rows: claim latency p50 and p99 against a PING round trip, with Redis alone and
 * with a replica. `row` (bench.mjs's) is called for each; they are returned too.
 */
export async function benchCoordination({ count = Number(process.env.BENCH_CLAIMS ?? 2000), row } = {}) {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) throw new Error('bench coordination: redis-server is not installed');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rpr-bench-redis-'));
  const children = [];
  const rows = [];
  const add = (name, value, baseline, ratio) => {
    rows.push({ section: SECTION, name, value, baseline, ratio });
    row?.(SECTION, name, value, baseline, { ratio });
  };
  try {
    const primary = await redisServer(dir);
    children.push(primary.child);
    const alone = await measure(primary.port, count);
    const replica = await redisServer(dir, ['--replicaof', '127.0.0.1', String(primary.port)]);
    children.push(replica.child);
    for (let i = 0; i < 100 && !/master_link_status:up/.test(spawnSync('redis-cli', ['-p', String(replica.port), 'info', 'replication'], { encoding: 'utf8' }).stdout); i++)
      await new Promise((r) => setTimeout(r, 100));
    // ioredis reads the replicas at connection: a new job sees this one.
    const replicated = await measure(primary.port, count);
    for (const [what, m] of [
      [`${count} claims won, Redis alone`, alone],
      [`${count} claims won, Redis with a replica (each claim waits for it: WAIT 1)`, replicated],
    ]) {
      for (const q of [0.5, 0.99]) {
        const c = quantile(m.claims, q);
        const p = quantile(m.pings, q);
        add(`claim latency p${q * 100}, ${what}`, ms(c), `${ms(p)} (PING round trip p${q * 100}, alternating)`, `${(c / p).toFixed(1)}x`);
      }
    }
  } finally {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await benchCoordination();
  process.stdout.write(`| **${SECTION}** | | | | |\n`);
  for (const r of rows) process.stdout.write(`| ${r.name} | ${r.value} | ${r.baseline} | ${r.ratio} |  |\n`);
}
