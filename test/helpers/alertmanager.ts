// A real Prometheus Alertmanager for the alertmanager output's tests (Debian's prometheus-alertmanager;
// .ci/run installs it): started on a free loopback port with its own storage folder and clustering
// off, asked through its API v2, stopped on demand and by stopAlertmanagers().
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './redis-server.js';

const BINARIES = ['prometheus-alertmanager', 'alertmanager'];
/** The Alertmanager binary, or null (the tests that need it are skipped, saying why). */
export const ALERTMANAGER = BINARIES.find((b) => spawnSync(b, ['--version'], { stdio: 'ignore' }).status === 0) ?? null;

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
  status: { state: string };
}

export interface Alertmanager {
  port: number;
  url: string;
  /** The alerts it holds as not resolved (GET /api/v2/alerts), optionally only those with these labels. */
  alerts(labels?: Record<string, string>): Promise<GettableAlert[]>;
  /** SIGTERM (SIGKILL after 3 s); resolves once it has exited. */
  stop(): Promise<void>;
}

const live = new Map<ChildProcess, string>();
process.once('exit', () => [...live.keys()].forEach((child) => child.kill('SIGKILL')));

function get(port: number, pathname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export async function startAlertmanager(): Promise<Alertmanager> {
  if (!ALERTMANAGER) throw new Error('no Alertmanager binary');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rpr-alertmanager-'));
  const config = path.join(dir, 'alertmanager.yml');
  writeFileSync(config, "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
  const port = await freePort();
  const child = spawn(
    ALERTMANAGER,
    [`--config.file=${config}`, `--storage.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  live.set(child, dir);
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      rmSync(dir, { recursive: true, force: true });
      resolve();
    }),
  );
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`Alertmanager exited with ${child.exitCode}: ${log}`);
    const ready = await get(port, '/-/ready').catch(() => null);
    if (ready?.status === 200) break;
    if (i > 200) throw new Error(`Alertmanager not ready on ${port} after 10 s: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(timer);
  };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    async alerts(labels = {}) {
      const filter = Object.entries(labels)
        .map(([k, v]) => `filter=${encodeURIComponent(`${k}="${v}"`)}`)
        .join('&');
      const res = await get(port, `/api/v2/alerts${filter ? `?${filter}` : ''}`);
      if (res.status !== 200) throw new Error(`GET /api/v2/alerts: ${res.status} ${res.body}`);
      return JSON.parse(res.body) as GettableAlert[];
    },
    stop,
  };
}

/** afterEach: every Alertmanager still running is stopped (and its folder removed). */
export async function stopAlertmanagers(): Promise<void> {
  await Promise.all(
    [...live.keys()].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
