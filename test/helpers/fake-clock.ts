import type { Clock } from '../../src/clock/clock.js';

interface Sleeper {
  until: number;
  resolve: () => void;
}

/**
 * A clock that moves only when told. Shipped in src (not test/) so that the
 * benchmark can compress hour-long jobs too.
 */
export class FakeClock implements Clock {
  private time: number;
  private wallOffset: number;
  private sleepers: Sleeper[] = [];

  constructor(startWall = Date.UTC(2030, 0, 1)) {
    this.time = 0;
    this.wallOffset = startWall;
  }

  now(): number {
    return this.time;
  }

  wallNow(): number {
    return this.time + this.wallOffset;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const onAbort = (): void => this.wake(sleeper);
      const sleeper = {
        until: this.time + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Moves time forward by `ms`, waking sleepers in due order and letting each continuation run. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      await flush();
      const next = this.sleepers.reduce<Sleeper | undefined>((a, s) => (!a || s.until < a.until ? s : a), undefined);
      if (!next || next.until > target) break;
      this.time = Math.max(this.time, next.until);
      this.wake(next);
    }
    this.time = target;
    await flush();
  }

  /** Simulates a wall-clock jump (suspend, NTP step) without monotonic progress. */
  jumpWall(ms: number): void {
    this.wallOffset += ms;
  }

  private wake(sleeper: Sleeper): void {
    this.sleepers = this.sleepers.filter((s) => s !== sleeper);
    sleeper.resolve();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
