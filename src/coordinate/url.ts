import type { RedisOptions } from 'ioredis';
import { usageError } from '../errors/index.js';

interface HostPort {
  host: string;
  port: number;
}

/** Where the job's Redis is, as the client needs it; `shown` is safe to print (no password). */
export interface RedisTarget {
  /** The server; with Sentinel, the first sentinel (the primary is asked for). */
  host: string;
  port: number;
  db: number;
  tls: boolean;
  username?: string;
  password?: string;
  /** redis+sentinel://: the sentinels to ask for the primary named `master`. */
  sentinels?: HostPort[];
  master?: string;
  /** redis://host:port/db, without user or password: for messages. */
  shown: string;
}

const HINT = 'e.g. --coordinate redis://127.0.0.1:6379, redis://:PASSWORD@redis.internal:6379/2 or redis+sentinel://s1:26379,s2:26379,s3:26379/mymaster';
const SENTINEL_HINT = 'redis+sentinel://HOST[:PORT],HOST[:PORT].../MASTER[/DB], e.g. redis+sentinel://s1:26379,s2:26379,s3:26379/mymaster';

/**
 * `redis://[user:pass@]host:port[/db]` (rediss:// for TLS), or
 * `redis+sentinel://[user:pass@]host[:port],host[:port].../MASTER[/db]`: the sentinels (port 26379
 * by default) name the primary of MASTER, and name the new one after a failover. The password is the
 * servers' (not the sentinels'); it may also come from RPR_REDIS_PASSWORD, so that it need not sit
 * in a command line or a file; one in the URL wins.
 */
export function parseRedisUrl(text: string, env: Readonly<Record<string, string | undefined>> = process.env): RedisTarget {
  if (/^redis\+sentinel:/i.test(text)) return parseSentinelUrl(text, env);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--coordinate: "${redact(text)}" is not a Redis URL`, HINT);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw usageError(`--coordinate: "${url.protocol}" URLs are not Redis; use redis://, rediss:// or redis+sentinel://`, HINT);
  }
  if (url.hostname === '') throw usageError(`--coordinate: "${redact(text)}" names no host`, HINT);
  if (url.search !== '' || url.hash !== '') throw usageError(`--coordinate: "${redact(text)}": options after ? or # are not supported`, HINT);
  const db = database(url.pathname.replace(/^\//, ''));
  const port = url.port === '' ? 6379 : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port,
    db,
    tls: url.protocol === 'rediss:',
    ...credentials(decodeURIComponent(url.username), decodeURIComponent(url.password), env),
    shown: `${url.protocol}//${url.hostname}:${port}${db === 0 ? '' : `/${db}`}`,
  };
}

function parseSentinelUrl(text: string, env: Readonly<Record<string, string | undefined>>): RedisTarget {
  const match = /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^/?#]*)\/([^/?#]+)(?:\/([^/?#]*))?$/i.exec(text);
  if (!match) {
    const extra = /[?#]/.test(text) ? ': options after ? or # are not supported' : ' is not a Sentinel URL';
    throw usageError(`--coordinate: "${redact(text)}"${extra}`, SENTINEL_HINT);
  }
  const [, userinfo = '', hostList = '', master = '', dbText = ''] = match;
  const sentinels = hostList.split(',').map((item) => {
    const hp = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(item.trim());
    const port = hp?.[2] === undefined ? 26379 : Number(hp[2]);
    if (!hp || port < 1 || port > 65535) throw usageError(`--coordinate: "${item}" is not a sentinel host[:port]`, SENTINEL_HINT);
    return { host: hp[1]!.replace(/^\[(.*)\]$/, '$1'), port };
  });
  const db = database(dbText);
  const colon = userinfo.indexOf(':');
  const [user, pass] = colon === -1 ? [userinfo, ''] : [userinfo.slice(0, colon), userinfo.slice(colon + 1)];
  const name = decodeURIComponent(master);
  const shownHosts = sentinels.map((s) => `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`).join(',');
  return {
    host: sentinels[0]!.host,
    port: sentinels[0]!.port,
    db,
    tls: false,
    ...credentials(decodeURIComponent(user), decodeURIComponent(pass), env),
    sentinels,
    master: name,
    shown: `redis+sentinel://${shownHosts}/${name}${db === 0 ? '' : `/${db}`}`,
  };
}

function database(path: string): number {
  if (path !== '' && !/^\d+$/.test(path)) throw usageError(`--coordinate: "${path}" is not a database number`, 'the path is the database, e.g. redis://127.0.0.1:6379/2');
  return path === '' ? 0 : Number(path);
}

function credentials(user: string, fromUrl: string, env: Readonly<Record<string, string | undefined>>): { username?: string; password?: string } {
  const password = fromUrl !== '' ? fromUrl : env.RPR_REDIS_PASSWORD === '' ? undefined : env.RPR_REDIS_PASSWORD;
  return { ...(user === '' ? {} : { username: user }), ...(password === undefined ? {} : { password }) };
}

/** A URL as it may be printed: the password replaced. */
export function redact(text: string): string {
  return text.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** How the client connects to `target` (redis.ts makes it). */
export function clientOptions(target: RedisTarget, connectTimeoutMs: number, maxDelayMs: number): RedisOptions {
  const backoff = (attempt: number): number => Math.min(50 * attempt, maxDelayMs);
  return {
    ...(target.sentinels
      ? {
          sentinels: target.sentinels,
          name: target.master!,
          // Not ioredis' failover detector: it drops the connection on every +switch-master message,
          // also the new primary's when it was found first (a second "lost Redis" for nothing). A
          // demoted primary answers READONLY (reconnectOnError below); a cut-off one acknowledges
          // no claim (redis.ts confirm).
          failoverDetector: false,
          sentinelRetryStrategy: backoff,
        }
      : { host: target.host, port: target.port }),
    db: target.db,
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.tls ? { tls: {} } : {}),
    lazyConnect: true,
    // A call while Redis is away fails at once: waiting for it would hold up the slot, and
    // replaying it later would claim a slot long past.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: connectTimeoutMs,
    retryStrategy: backoff,
    // A replica answering (a failover happened, or DNS still names the old primary): connect
    // again, which asks the sentinels (or DNS) for the primary. Nothing is sent again.
    reconnectOnError: (error: Error) => /^READONLY\b/.test(error.message),
  };
}
