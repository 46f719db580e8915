/**
 * Helpers for the cron, config and observability end-to-end tests: start the
 * built rpr (dist/cli/bin.js) as a user would, with a clean environment (no
 * real config file is ever read), talk HTTP to it on 127.0.0.1, parse its
 * Prometheus output, and make sure nothing a test started outlives the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, connect } from 'node:net';
import { dirname, join } from 'node:path';
import { RPR } from '../helpers/cli.js';
import { closeLater, track, waitUntil } from '../helpers/processes.js';

export { RPR };
export { cleanup, lines, liveProcesses, sleep, STACK_LINE, tempDir, uniqueSleep, waitUntil } from '../helpers/processes.js';

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** ms from spawn to exit. */
  ms: number;
  /** Date.now() when rpr exited. */
  exitWall: number;
}

export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<Finished>;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** SIGKILL rpr after this long (the test then fails on its exit status). */
  timeoutMs?: number;
}

/**
 * A clean environment: no RPR_* variable of the caller's, no real config file
 * (XDG_CONFIG_HOME and HOME point at places without one), so each test says
 * exactly which layers exist.
 */
function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RPR_')) env[k] = v;
  env.XDG_CONFIG_HOME = '/nonexistent-rpr-xdg';
  env.HOME = '/nonexistent-rpr-home';
  return { ...env, ...extra };
}

export function start(args: string[], options: StartOptions = {}): Running {
  const started = performance.now();
  const child = spawn(process.execPath, [RPR, ...args], {
    env: cleanEnv(options.env),
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 25_000);
  const done = new Promise<Finished>((resolve) => {
    child.once('exit', (code, signal) => {
      const ms = performance.now() - started;
      const exitWall = Date.now();
      clearTimeout(killer);
      let closed = false;
      const finish = (): void => {
        if (closed) return;
        closed = true;
        resolve({ code, signal, stdout: out, stderr: err, ms, exitWall });
      };
      child.once('close', finish);
      // A grandchild that outlived rpr may hold the pipes open: do not wait for it.
      setTimeout(() => {
        child.stdout!.destroy();
        child.stderr!.destroy();
        finish();
      }, 1500).unref();
    });
  });
  return { child, stdout: () => out, stderr: () => err, done };
}

/**
 * At most this many rpr processes started by run() at once (per test worker):
 * tests start several in parallel, and a 2-core machine shared with other
 * work must not be swamped by Node start-ups.
 */
const MAX_PARALLEL_RUNS = 3;
let active = 0;
const queue: (() => void)[] = [];

/** Runs `rpr ...args` to completion (waiting for a free slot first). */
export async function run(args: string[], options: StartOptions = {}): Promise<Finished> {
  if (active >= MAX_PARALLEL_RUNS) await new Promise<void>((resolve) => queue.push(resolve));
  active++;
  try {
    return await start(args, options).done;
  } finally {
    active--;
    queue.shift()?.();
  }
}

/** Writes `text` to dir/name (creating folders) and returns the path. */
export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

export const waitForFile = (path: string, timeoutMs = 10_000): Promise<true> => waitUntil(`file ${path}`, () => existsSync(path), timeoutMs, 20);

/** A port that was free a moment ago (bound to 0 on 127.0.0.1, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A port held by this test process until cleanup(): binding it must fail. */
export async function busyPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  closeLater(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as { port: number }).port;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request to 127.0.0.1:port, no keep-alive (so no socket outlives it). */
export function http(port: number, path: string, method = 'GET'): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} on ${port} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export async function getJson<T = Record<string, unknown>>(port: number, path: string): Promise<{ status: number; json: T }> {
  const res = await http(port, path);
  return { status: res.status, json: JSON.parse(res.body) as T };
}

/** Resolves with the error code of a TCP connect to 127.0.0.1:port ('connected' if it succeeded). */
export function connectResult(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
  });
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition format, samples only (comments give types below). */
export function parseProm(text: string): { samples: Sample[]; types: Record<string, string> } {
  const samples: Sample[] = [];
  const types: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types[type[1]!] = type[2]!;
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const raw = m[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    // Prometheus reads values with Go's ParseFloat, which takes NaN in any case; prom-client writes
    // "Nan" (rpr_nodejs_eventloop_lag_mean_seconds before the first event-loop sample).
    if (Number.isNaN(value) && !/^nan$/i.test(raw)) throw new Error(`bad sample value in ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

/** The one sample named `name` whose labels include `labels`; throws unless exactly one matches. */
export function sampleOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`expected one ${name}${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]!.value;
}
