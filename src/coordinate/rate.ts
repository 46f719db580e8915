/**
 * A rate limit shared by every instance of a job (with --coordinate, a scheduler plugin that
 * declares a sliding window or a token bucket, as rate-limit and token-bucket do), enforced here, on
 * the host, not in the plugin: a WASM plugin cannot reach Redis, and it should not need to. The
 * plugin still decides when this instance alone would run next (its retries,
 * its own window); then this wrapper asks Redis for the earliest start at or after that which
 * keeps the shared limit, and reserves it atomically (a Lua script), so instances spread out
 * instead of racing. When that moment is reached the start is committed, again atomically, at the
 * time it really happens, checked against the actual starts of all instances: the limit holds over
 * real start times even when an instance wakes late. If a commit does not fit, the run waits for
 * the time Redis names and tries again.
 */
import type { Due } from '../clock/clock.js';
import { RprError } from '../errors/index.js';
import type { ClaimAnswer, Schedule, SlotAnswer, SlotContext, SlotShape } from '../schedule/types.js';
import { formatDuration, parseDuration } from '../units/duration.js';
import { usageError } from '../errors/index.js';
import { iso, mismatch, noteSkew, type Shared } from './shared.js';

export type RateShape = Extract<SlotShape, { kind: 'sliding-window' | 'token-bucket' }>;

/** How long a reservation or commit may take before Redis counts as away. */
const CALL_TIMEOUT_MS = 1000;
/** While Redis is away (skip), a held run asks again this often. */
const RETRY_MS = 500;

/** `N/WINDOW` as the bundled rate plugins take it: 100/1h, 5/1s, 2/100ms, 10/s (= 10/1s). */
export function parseRate(text: string, plugin: string): { limit: number; windowMs: number } {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*\/\s*(\S+)\s*$/.exec(text);
  const windowText = match ? (/^[a-z]/.test(match[2]!) ? `1${match[2]}` : match[2]!) : '';
  const limit = match ? Number(match[1]) : NaN;
  let windowMs = NaN;
  try {
    windowMs = parseDuration(windowText);
  } catch {
    // reported below
  }
  if (!(limit > 0) || !(windowMs > 0)) throw usageError(`${plugin} --rate "${text}": expected N/WINDOW`, 'e.g. --rate 100/1h or 2/100ms');
  return { limit, windowMs };
}

/** As Redis keeps it (the names are those of the plugins that first had these shapes). */
const rateShape = (rate: RateShape): string =>
  rate.kind === 'sliding-window' ? `rate-limit ${rate.limit}/${rate.windowMs}ms${rate.spread ? ' spread' : ''}` : `token-bucket ${rate.limit}/${rate.windowMs}ms burst ${rate.burst}`;

export function rateCoordinated(shared: Shared, inner: Schedule, rate: RateShape, close: () => Promise<void>): Schedule {
  const { link, status, keys, instance } = shared;
  const mine = rateShape(rate);
  const shapeTtl = Math.max(10 * rate.windowMs, 3_600_000);
  const every = rate.windowMs / rate.limit;
  let seq = 0;
  /** This instance's reservation for its next run. */
  let pending = `${instance}:0`;
  /** The pending run was counted as held back by Redis being away. */
  let held = false;

  const script = async (op: 'reserve' | 'commit' | 'release', t: number, timeoutMs = CALL_TIMEOUT_MS): Promise<string[]> => {
    const answer =
      rate.kind === 'sliding-window'
        ? await link.call('rprWindow', [keys.shape, keys.starts, keys.reserved], [op, mine, shapeTtl, t, pending, rate.limit, rate.windowMs, rate.spread ? 1 : 0, shared.wallNow()], timeoutMs)
        : await link.call('rprBucket', [keys.shape, keys.bucket], [op, mine, shapeTtl, t, every, (rate.burst - 1) * every, shared.wallNow()], timeoutMs);
    if (answer[0] === 'moved') throw mismatch(shared, answer[1] ?? '?', mine);
    return answer;
  };

  /** The plugin's next run, moved to the earliest time the shared limit allows, reserved. */
  const reserve = async (answer: SlotAnswer, ctx: SlotContext): Promise<SlotAnswer> => {
    if (!answer || 'end' in answer) return answer;
    const wanted = toWall(answer.due, ctx);
    pending = `${instance}:${++seq}`;
    held = false;
    if (link.mayAsk()) {
      try {
        const at = Number((await script('reserve', wanted))[1]);
        if (at > wanted) status.say(`next start at ${iso(at)}: ${formatDuration(at - wanted)} later than this instance alone would (the shared limit)`);
        return { due: { wall: Math.max(at, wanted) }, skipped: answer.skipped };
      } catch (error) {
        if (error instanceof RprError) throw error;
      }
    }
    return { due: { wall: wanted }, skipped: answer.skipped };
  };

  const claim = async (): Promise<ClaimAnswer> => {
    const now = shared.wallNow();
    if (link.mayAsk()) {
      try {
        const [verdict, detail = '?'] = await script('commit', now);
        if (verdict === 'run') {
          status.count('claimed');
          status.say(`start at ${iso(now)} counted for ${instance}${rate.kind === 'sliding-window' ? ` (${detail} of ${rate.limit} in the last ${formatDuration(rate.windowMs)})` : ''}`);
          return 'run';
        }
        const at = Number(detail);
        status.say(`the shared limit is taken until ${iso(at)}: waiting`);
        return { retryAt: { wall: at } };
      } catch (error) {
        if (error instanceof RprError) throw error;
      }
    }
    if (shared.onLoss === 'run-local') {
      status.count('local');
      status.say(`start at ${iso(now)} without Redis (run-local): only this instance's own limit holds`);
      return 'run';
    }
    if (!held) {
      held = true;
      status.count('unavailable');
      status.say('next run held: Redis is unavailable');
    }
    return { retryAt: { wall: now + RETRY_MS } };
  };

  return {
    describe: `${inner.describe}, limit shared across instances`,
    ...(inner.missed ? { missed: inner.missed } : {}),
    ...(inner.wantsOutput ? { wantsOutput: true } : {}),
    bind(emit) {
      status.bind(emit);
      inner.bind?.(emit);
    },
    async first(ctx) {
      await link.connect();
      if (link.usable) {
        status.connected();
        noteSkew(shared);
        try {
          const [theirs] = await link.call('rprJoin', [keys.shape], [mine, shapeTtl], CALL_TIMEOUT_MS);
          if (theirs !== mine) throw mismatch(shared, theirs ?? '?', mine);
        } catch (error) {
          if (error instanceof RprError) throw error;
        }
      }
      status.say(`job "${shared.name}": ${mine} across instances; this instance is ${instance}`);
      // Joining may have taken a while, and the job's clock is Redis's from now on.
      const nowWall = shared.wallNow();
      const moved = { ...ctx, nowAt: ctx.nowAt + (nowWall - ctx.nowWall), nowWall };
      return reserve(await inner.first(moved), moved);
    },
    after: async (prev, ctx) => reserve(await inner.after(prev, ctx), ctx),
    claim,
    async close() {
      // A reservation that will not be used is given back (the token bucket's cannot be: it costs one token).
      if (rate.kind === 'sliding-window' && link.usable) await script('release', shared.wallNow(), 200).catch(() => undefined);
      await Promise.all([inner.close?.(), close()]);
    },
  };
}

function toWall(due: Due, ctx: SlotContext): number {
  return 'wall' in due ? due.wall : ctx.nowWall + (due.at - ctx.nowAt);
}
