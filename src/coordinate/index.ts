/**
 * --coordinate: one job across several rpr instances, through Redis. The only module that talks to
 * Redis (ioredis, in redis.ts). It wraps the job's Schedule, by the slots the schedule declares:
 *   - a grid (interval): slots on a grid shared through Redis, each claimed once (slots.ts);
 *   - instants (cron): each fire time claimed once (slots.ts);
 *   - a sliding window / token bucket: every instance's starts counted against one limit (rate.ts).
 * The job loop asks the schedule's `claim` when a slot is reached, before the run starts. The job's
 * wall clock is Redis's (time.ts), so that hosts whose clocks disagree agree on the slots.
 * See docs/coordination.md.
 */
import { hostname } from 'node:os';
import type { Schedule, SlotShape } from '../schedule/types.js';
import { RedisLink, type LinkOptions } from './redis.js';
import { rateCoordinated } from './rate.js';
import { jobKeys, type Shared } from './shared.js';
import { cronCoordinated, gridSchedule } from './slots.js';
import { CoordinationStatus, type LossPolicy } from './status.js';
import { parseRedisUrl } from './url.js';

export { parseRedisUrl, redact } from './url.js';
export { parseRate } from './rate.js';

export interface CoordinateOptions {
  /** redis://[user:pass@]host:port[/db], or redis+sentinel://host:port,.../MASTER[/db] */
  url: string;
  /** The job's name: instances with the same Redis and name are one job. */
  name: string;
  onLoss: LossPolicy;
  /** The slots the job's schedule declares. */
  slots: SlotShape;
  jitterMs: number;
  /** --on-overlap skip: no slot starts while a run of the job goes on on another instance. */
  skipOverlap: boolean;
  /** Always-shown lines (Redis lost, Redis back), on stderr. */
  warn: (line: string) => void;
  /** --verbose lines (which instance ran which slot), on stderr; none when absent. */
  verbose?: (line: string) => void;
  env?: Readonly<Record<string, string | undefined>>;
  /** This instance's name in claims; default host:pid. */
  instance?: string;
  /** The wall clock of claims and slots; default Redis's (read with TIME, carried by `link.mono`). */
  wallNow?: () => number;
  link?: LinkOptions;
}

export interface Coordination {
  schedule: Schedule;
  /** The job's wall clock: Redis's time (the local clock's until Redis first answers). */
  wallNow(): number;
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
  const { slots } = options;
  const rate = slots.kind === 'sliding-window' || slots.kind === 'token-bucket';
  const whileDown: Record<LossPolicy, string> = rate ? { skip: 'runs wait', 'run-local': "only this instance's own limit holds" } : { skip: 'no slot runs here', 'run-local': 'every slot runs here' };
  const status = new CoordinationStatus({ instance, onLoss: options.onLoss, shown: target.shown, whileDown, warn: options.warn, ...(options.verbose ? { verbose: options.verbose } : {}) });
  const link = new RedisLink(target, status, options.link);
  const clockNow = (): number => link.clock.now();
  const wallNow = options.wallNow ?? clockNow;
  const shared: Shared = { name: options.name, instance, onLoss: options.onLoss, link, status, keys: jobKeys(options.name), wallNow, clockNow };
  const close = async (): Promise<void> => link.close();
  const slotOptions = { jitterMs: options.jitterMs, lease: options.skipOverlap };
  const schedule =
    slots.kind === 'grid'
      ? gridSchedule(shared, slots, slotOptions, close)
      : slots.kind === 'instants'
        ? cronCoordinated(shared, inner, slots.key, slotOptions, close)
        : rateCoordinated(shared, inner, slots, close);
  return { schedule: { ...schedule, describe: `${schedule.describe} (Redis ${target.shown}, job "${options.name}")` }, wallNow, close };
}
