import { RprError } from '../errors/index.js';
import { formatDuration } from '../units/duration.js';
import type { RedisLink } from './redis.js';
import type { CoordinationStatus, LossPolicy } from './status.js';

/** Redis keys of one job. The {name} hash tag keeps them in one cluster slot, as scripts need. */
export interface JobKeys {
  /** What the job is (its schedule); an interval job's grid origin is part of it. */
  shape: string;
  slot(dueWall: number): string;
  /** The run holding the job's lease (--on-overlap skip across instances), and when the last one ended. */
  lease: string;
  ran: string;
  starts: string;
  reserved: string;
  bucket: string;
}

export function jobKeys(name: string): JobKeys {
  const prefix = `rpr:{${name}}:`;
  return {
    shape: `${prefix}job`,
    slot: (dueWall) => `${prefix}slot:${dueWall}`,
    lease: `${prefix}lease`,
    ran: `${prefix}ran`,
    starts: `${prefix}starts`,
    reserved: `${prefix}reserved`,
    bucket: `${prefix}bucket`,
  };
}

/** What every coordinated schedule of a job shares. */
export interface Shared {
  name: string;
  instance: string;
  onLoss: LossPolicy;
  link: RedisLink;
  status: CoordinationStatus;
  keys: JobKeys;
  /** The job's wall clock: Redis's (clockNow), or one a test gives. */
  wallNow: () => number;
  clockNow: () => number;
}

export const iso = (wall: number): string => new Date(wall).toISOString();

/** A host clock this far from Redis's is worth a line (the job follows Redis's either way). */
const SKEW_SAID_MS = 1000;

/** Once Redis's time is known: says so when this host's clock is well off it. */
export function noteSkew(shared: Shared): void {
  const skew = shared.link.clock.skewMs();
  if (shared.wallNow !== shared.clockNow || skew === undefined || Math.abs(skew) < SKEW_SAID_MS) return;
  shared.status.warn(`this host's clock is ${formatDuration(Math.round(Math.abs(skew) / 100) * 100)} ${skew > 0 ? 'ahead of' : 'behind'} Redis's; the job's slots follow Redis's clock`);
}

/** A shape as a person reads it: the grid's origin is detail. */
const human = (shape: string): string => shape.replace(/ from -?[\d.]+$/, '');

/** Instances of one job that disagree on what it is: nothing could be coordinated. */
export function mismatch(shared: Shared, theirs: string, mine: string): RprError {
  return new RprError('E_COORDINATION', `coordination: job "${shared.name}" in Redis at ${shared.link.target.shown} is "${human(theirs)}", this instance's is "${human(mine)}"`, {
    hint: 'every instance of one job needs the same schedule; another job needs another --name',
  });
}
