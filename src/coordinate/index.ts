/**
 * --coordinate: one job across several rpr instances, through Redis. The only module that talks to
 * Redis (ioredis, in redis.ts). It wraps the job's Schedule:
 *   - interval: slots on a grid shared through Redis, each claimed once (slots.ts);
 *   - cron: each fire time claimed once (slots.ts);
 *   - rate-limit / token-bucket: every instance's starts counted against one limit (rate.ts).
 * The job loop asks the schedule's `claim` when a slot is reached, before the run starts.
 * See docs/coordination.md.
 */
import { hostname } from 'node:os';
import type { Schedule } from '../schedule/types.js';
import { RedisLink, type LinkOptions } from './redis.js';
import { rateCoordinated, type RateShape } from './rate.js';
import { jobKeys, type Shared } from './shared.js';
import { cronCoordinated, gridSchedule, type GridOptions } from './slots.js';
import { CoordinationStatus, type LossPolicy } from './status.js';
import { parseRedisUrl } from './url.js';

export { parseRedisUrl, redact } from './url.js';
export { parseRate, type RateShape } from './rate.js';
export type { LossPolicy } from './status.js';

export type JobShape = ({ kind: 'interval' } & GridOptions) | { kind: 'cron'; jitterMs: number } | RateShape;

export interface CoordinateOptions {
  /** redis://[user:pass@]host:port[/db] */
  url: string;
  /** The job's name: instances with the same Redis and name are one job. */
  name: string;
  onLoss: LossPolicy;
  shape: JobShape;
  /** Always-shown lines (Redis lost, Redis back), on stderr. */
  warn: (line: string) => void;
  /** --verbose lines (which instance ran which slot), on stderr; none when absent. */
  verbose?: (line: string) => void;
  env?: Readonly<Record<string, string | undefined>>;
  /** This instance's name in claims; default host:pid. */
  instance?: string;
  wallNow?: () => number;
  link?: LinkOptions;
}

export interface Coordination {
  schedule: Schedule;
  /** Disconnects from Redis; idempotent (the schedule's close does it too). */
  close(): Promise<void>;
}

/**
 * Wraps `inner` (the job's own schedule) for coordination. Nothing connects until the job asks
 * for its first slot; a bad URL throws here, before the job starts.
 */
export function coordinate(inner: Schedule, options: CoordinateOptions): Coordination {
  const target = parseRedisUrl(options.url, options.env);
  const instance = options.instance ?? `${hostname()}:${process.pid}`;
  const whileDown: Record<LossPolicy, string> =
    options.shape.kind === 'rate-limit' || options.shape.kind === 'token-bucket'
      ? { skip: 'runs wait', 'run-local': "only this instance's own limit holds" }
      : { skip: 'no slot runs here', 'run-local': 'every slot runs here' };
  const status = new CoordinationStatus({ instance, onLoss: options.onLoss, shown: target.shown, whileDown, warn: options.warn, ...(options.verbose ? { verbose: options.verbose } : {}) });
  const link = new RedisLink(target, status, options.link);
  const shared: Shared = { name: options.name, instance, onLoss: options.onLoss, link, status, keys: jobKeys(options.name), wallNow: options.wallNow ?? Date.now };
  const close = async (): Promise<void> => link.close();
  const { shape } = options;
  const schedule =
    shape.kind === 'interval'
      ? gridSchedule(shared, shape, close)
      : shape.kind === 'cron'
        ? cronCoordinated(shared, inner, shape.jitterMs, close)
        : rateCoordinated(shared, inner, shape, close);
  return { schedule: { ...schedule, describe: `${schedule.describe} (Redis ${target.shown}, job "${options.name}")` }, close };
}
