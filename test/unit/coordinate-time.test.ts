// Redis's clock as a coordinated job reads it (src/coordinate/time.ts), on made-up clocks: the TIME
// answer with the shortest round trip is taken as read halfway through it, carried forward by the
// local monotonic clock (not the host's wall clock), and the local wall clock is used until then.
import { describe, expect, it } from 'vitest';
import { RedisClock, timeToMs } from '../../src/coordinate/time.js';

function clocks() {
  const local = { mono: 1000, wall: 1_800_000_000_000 };
  const clock = new RedisClock(
    () => local.mono,
    () => local.wall,
  );
  return { local, clock };
}

describe("Redis's clock", () => {
  it('is the local wall clock until Redis first answers', () => {
    const { local, clock } = clocks();
    expect(clock.synced).toBe(false);
    expect(clock.now()).toBe(local.wall);
    expect(clock.skewMs()).toBeUndefined();
    expect(clock.errorMs).toBe(Infinity);
  });

  it('takes the answer with the shortest round trip, read halfway through it', () => {
    const { local, clock } = clocks();
    clock.adopt([
      { redisMs: 5_000_000, sentAt: 1000, receivedAt: 1040 },
      { redisMs: 5_000_100, sentAt: 1100, receivedAt: 1104 },
      { redisMs: 5_000_200, sentAt: 1200, receivedAt: 1290 },
    ]);
    expect(clock.synced).toBe(true);
    expect(clock.errorMs).toBe(2);
    // At mono 1102 Redis read 5_000_100; 98 ms later it is 5_000_198.
    local.mono = 1200;
    expect(clock.now()).toBe(5_000_198);
  });

  it('goes on with the monotonic clock: a host wall clock stepped or skewed does not move it', () => {
    const { local, clock } = clocks();
    clock.adopt([{ redisMs: 1_800_000_007_000, sentAt: 1000, receivedAt: 1000 }]);
    local.mono += 250;
    local.wall -= 60_000;
    expect(clock.now()).toBe(1_800_000_007_250);
    // The host is 60 s + 7 s + 250 ms behind Redis now.
    expect(clock.skewMs()).toBe(-67_250);
  });

  it('keeps a reading with a shorter round trip while its error, grown by drift, stays smaller; a new one that disagrees replaces it', () => {
    const { local, clock } = clocks();
    clock.adopt([{ redisMs: 10_000, sentAt: 1000, receivedAt: 1002 }]);
    // 10 s later a loaded machine reads a 40 ms round trip that agrees: the 1 ms reading stays.
    clock.adopt([{ redisMs: 20_010, sentAt: 11_000, receivedAt: 11_040 }]);
    expect(clock.errorMs).toBe(1);
    local.mono = 11_001;
    expect(clock.now()).toBe(20_000);
    // 5 minutes on, drift (100 ppm: 30 ms) makes the old one worse than a 40 ms round trip.
    clock.adopt([{ redisMs: 310_010, sentAt: 301_000, receivedAt: 301_040 }]);
    expect(clock.errorMs).toBe(20);
    // A reading 500 ms off, outside both errors: Redis's clock moved (a failover). Taken.
    clock.adopt([{ redisMs: 320_520, sentAt: 311_000, receivedAt: 311_040 }]);
    local.mono = 311_020;
    expect(clock.now()).toBe(320_520);
  });

  it('a later sync replaces the earlier one (Redis after a failover is another server, with its own clock)', () => {
    const { local, clock } = clocks();
    clock.adopt([{ redisMs: 10_000, sentAt: 1000, receivedAt: 1002 }]);
    local.mono = 2000;
    clock.adopt([{ redisMs: 50_000, sentAt: 1990, receivedAt: 2010 }]);
    expect(clock.now()).toBe(50_000);
    clock.adopt([]);
    expect(clock.now()).toBe(50_000);
  });

  it("reads TIME's seconds and microseconds as epoch ms", () => {
    expect(timeToMs(['1800000000', '123456'])).toBe(1_800_000_000_123.456);
  });
});
