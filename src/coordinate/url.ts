import { usageError } from '../errors/index.js';

/** Where the job's Redis is, as the client needs it; `shown` is safe to print (no password). */
export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  tls: boolean;
  username?: string;
  password?: string;
  /** redis://host:port/db, without user or password: for messages. */
  shown: string;
}

const HINT = 'e.g. --coordinate redis://127.0.0.1:6379 or redis://:PASSWORD@redis.internal:6379/2';

/**
 * `redis://[user:pass@]host:port[/db]` (rediss:// for TLS). The password may also come from
 * RPR_REDIS_PASSWORD, so that it need not sit in a command line or a file; one in the URL wins.
 */
export function parseRedisUrl(text: string, env: Readonly<Record<string, string | undefined>> = process.env): RedisTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--coordinate: "${text}" is not a Redis URL`, HINT);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw usageError(`--coordinate: "${url.protocol}" URLs are not Redis; use redis:// or rediss://`, HINT);
  }
  if (url.hostname === '') throw usageError(`--coordinate: "${redact(text)}" names no host`, HINT);
  if (url.search !== '' || url.hash !== '') throw usageError(`--coordinate: "${redact(text)}": options after ? or # are not supported`, HINT);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw usageError(`--coordinate: "${path}" is not a database number`, 'the path is the database, e.g. redis://127.0.0.1:6379/2');
  const port = url.port === '' ? 6379 : Number(url.port);
  const db = path === '' ? 0 : Number(path);
  const username = url.username === '' ? undefined : decodeURIComponent(url.username);
  const fromUrl = url.password === '' ? undefined : decodeURIComponent(url.password);
  const fromEnv = env.RPR_REDIS_PASSWORD === '' ? undefined : env.RPR_REDIS_PASSWORD;
  const password = fromUrl ?? fromEnv;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port,
    db,
    tls: url.protocol === 'rediss:',
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    shown: `${url.protocol}//${url.hostname}:${port}${db === 0 ? '' : `/${db}`}`,
  };
}

/** A URL as it may be printed: the password replaced. */
export function redact(text: string): string {
  return text.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
