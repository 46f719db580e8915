// A real redis-server for the coordination tests (Debian's package; .ci/run installs it): started on a
// free loopback port in a temporary folder, with no persistence, stopped (and restarted) on demand.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const HAVE_REDIS = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

export interface RedisServer {
  port: number;
  url: string;
  /** Stops the server (SIGTERM, SIGKILL after 3 s); resolves once it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: nothing is saved); nothing when it runs. */
  start(): Promise<void>;
  /** Kills it at once (SIGKILL: no goodbye to replicas or clients); resolves once it has exited. */
  kill(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open, nothing answers; `true` thaws it (SIGCONT). */
  freeze(frozen: boolean): void;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
}

/** A loopback port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
process.once('exit', () => live.forEach((child) => child.kill('SIGKILL')));

/**
 * Starts `command` and resolves once its standard output matches `ready` (a Redis server or a
 * Sentinel saying it is up); rejects when it exits first or takes longer than 10 s.
 */
export async function spawnReady(command: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(' ')} did not start: ${log}`)), 10_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (ready.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}: ${log}`));
    });
  });
  proc.stdout!.resume();
  proc.stderr!.resume();
  return proc;
}

/** Stops a process with `signal` (SIGTERM by default), SIGKILL after 3 s; resolves once it has exited. */
export function stopProcess(proc: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill('SIGCONT');
    proc.kill(signal);
  });
}

export async function startRedis(extraArgs: string[] = []): Promise<RedisServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rpr-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs];
    child = await spawnReady('redis-server', args, /Ready to accept connections/);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    await stopProcess(proc);
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    async kill() {
      const proc = child;
      child = undefined;
      await stopProcess(proc, 'SIGKILL');
    },
    freeze(frozen) {
      child?.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
    },
    async dispose() {
      child?.kill('SIGCONT');
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
