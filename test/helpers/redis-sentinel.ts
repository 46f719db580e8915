// Redis with Sentinel for the failover tests (Debian's redis-server and redis-sentinel; .ci/run
// installs both): a primary and two replicas, and three sentinels watching them with a quorum of two,
// all on free loopback ports. `ready()` resolves once every sentinel knows both replicas and the other
// sentinels (a failover needs that); `primary()` asks a sentinel which server is the primary now.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, spawnReady, startRedis, stopProcess, type RedisServer } from './redis-server.js';

export const HAVE_SENTINEL = spawnSync('redis-sentinel', ['--version'], { stdio: 'ignore' }).status === 0;

const MASTER = 'rprjobs';

export interface SentinelSetup {
  servers: RedisServer[];
  sentinelPorts: number[];
  /** redis+sentinel://127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3/rprjobs */
  url: string;
  /** The server the sentinels name as primary now. */
  primary(): Promise<RedisServer>;
  /** Resolves once every sentinel sees the primary with `replicas` replicas and the two other sentinels. */
  ready(replicas?: number, timeoutMs?: number): Promise<void>;
  /** Resolves once the sentinels name a primary other than `old` (the failover is over). */
  failedOver(old: RedisServer, timeoutMs?: number): Promise<RedisServer>;
  dispose(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Asks one sentinel; null when it does not answer. */
async function ask(port: number, ...args: string[]): Promise<unknown> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call('SENTINEL', ...args);
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}

/** SENTINEL replies come as flat [key, value, key, value...] lists. */
const fields = (flat: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  const list = Array.isArray(flat) ? (flat as string[]) : [];
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]!] = list[i + 1]!;
  return out;
};

/**
 * down-after 1000 ms: a primary that stops answering is failed over within a few seconds, as a
 * production setup tuned for quick failover would (the default, 30 s, would make a test wait).
 */
export async function startSentinels(): Promise<SentinelSetup> {
  const primary0 = await startRedis();
  const replicas = await Promise.all([1, 2].map(() => startRedis(['--replicaof', '127.0.0.1', String(primary0.port)])));
  const servers = [primary0, ...replicas];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rpr-sentinel-'));
  const sentinelPorts: number[] = [];
  const sentinels: ChildProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = path.join(dir, `sentinel-${i}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${MASTER} 127.0.0.1 ${primary0.port} 2`,
          `sentinel down-after-milliseconds ${MASTER} 1000`,
          `sentinel failover-timeout ${MASTER} 10000`,
          `sentinel parallel-syncs ${MASTER} 2`,
          '',
        ].join('\n'),
      );
      sentinels.push(await spawnReady('redis-sentinel', [conf], /Sentinel ID is|\+monitor master/));
      sentinelPorts.push(port);
    }
  } catch (error) {
    await Promise.all([...sentinels.map((s) => stopProcess(s)), ...servers.map((s) => s.dispose())]);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const primary = async (): Promise<RedisServer> => {
    for (const port of sentinelPorts) {
      const addr = (await ask(port, 'get-master-addr-by-name', MASTER)) as string[] | null;
      const server = addr && servers.find((s) => s.port === Number(addr[1]));
      if (server) return server;
    }
    throw new Error('no sentinel names a primary');
  };

  const ready = async (want = 2, timeoutMs = 20_000): Promise<void> => {
    const until = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const states = await Promise.all(
        sentinelPorts.map(async (port) => {
          const master = fields(await ask(port, 'master', MASTER));
          return `${master['num-slaves'] ?? '?'} replicas, ${master['num-other-sentinels'] ?? '?'} other sentinels, flags ${master.flags ?? '?'}`;
        }),
      );
      last = states.join('; ');
      if (states.every((s) => s === `${want} replicas, 2 other sentinels, flags master`)) {
        // ...and the replicas are in sync (a replica still loading cannot be promoted).
        const synced = await Promise.all(
          sentinelPorts.map(async (port) => {
            const list = (await ask(port, 'replicas', MASTER)) as unknown[] | null;
            return (list ?? []).map(fields).filter((r) => r.flags === 'slave' && r['master-link-status'] === 'ok').length;
          }),
        );
        if (synced.every((n) => n === want)) return;
      }
      if (Date.now() > until) throw new Error(`sentinels not ready after ${timeoutMs} ms: ${last}`);
      await sleep(200);
    }
  };

  const failedOver = async (old: RedisServer, timeoutMs = 30_000): Promise<RedisServer> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const now = await primary().catch(() => old);
      if (now !== old) return now;
      if (Date.now() > until) throw new Error(`no failover from ${old.port} within ${timeoutMs} ms`);
      await sleep(100);
    }
  };

  return {
    servers,
    sentinelPorts,
    url: `redis+sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${MASTER}`,
    primary,
    ready,
    failedOver,
    async dispose() {
      await Promise.all([...sentinels.map((s) => stopProcess(s)), ...servers.map((s) => s.dispose())]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
