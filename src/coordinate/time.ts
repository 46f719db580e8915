/**
 * Redis's clock, for the grid and the claims: every instance of a job reads the same one, so hosts
 * whose clocks disagree still agree on when a slot is due. TIME is asked a few times in a row and
 * the answer with the shortest round trip is kept, taken as read halfway through it (so its error is
 * at most half that round trip); between syncs the local monotonic clock carries it forward, so a
 * host's wall clock being stepped or skewed does not move it.
 */

/** One TIME call: Redis's answer and the local monotonic readings around it. */
export interface TimeSample {
  redisMs: number;
  sentAt: number;
  receivedAt: number;
}

/** How many TIME calls a sync makes; the one with the shortest round trip is used. */
const SAMPLES = 3;
/** How far two clocks may drift apart, per ms (100 ppm: a poor quartz). */
const DRIFT = 1e-4;

export class RedisClock {
  readonly #mono: () => number;
  readonly #wall: () => number;
  #base: { redisMs: number; at: number; errorMs: number } | undefined;

  /** `mono`: the local monotonic timeline (ms); `wall`: the local wall clock, used until the first sync. */
  constructor(mono: () => number, wall: () => number) {
    this.#mono = mono;
    this.#wall = wall;
  }

  /** Asks Redis's time `samples` times in a row (`ask`: one TIME) and adopts the best answer; throws what `ask` throws. */
  async sync(ask: () => Promise<readonly (string | number)[]>, samples = SAMPLES): Promise<void> {
    const taken: TimeSample[] = [];
    for (let i = 0; i < samples; i++) {
      const sentAt = this.#mono();
      const answer = await ask();
      taken.push({ redisMs: timeToMs(answer), sentAt, receivedAt: this.#mono() });
    }
    this.adopt(taken);
  }

  /**
   * Takes the sample with the shortest round trip (samples from one sync; none keeps the last) -
   * unless the reading in use is still the better one: its error grown by the clocks' drift since
   * is smaller than the new one's, and the two agree within their errors. A loaded machine reads
   * round trips longer than they are; a reading taken in a quiet moment is kept. Readings that
   * disagree (another server after a failover, Redis's clock stepped) replace it.
   */
  adopt(samples: readonly TimeSample[]): void {
    const best = [...samples].sort((a, b) => a.receivedAt - a.sentAt - (b.receivedAt - b.sentAt))[0];
    if (!best) return;
    const rtt = best.receivedAt - best.sentAt;
    const next = { redisMs: best.redisMs, at: best.sentAt + rtt / 2, errorMs: rtt / 2 };
    const base = this.#base;
    if (base) {
      const aged = base.errorMs + Math.abs(next.at - base.at) * DRIFT;
      const agree = Math.abs(base.redisMs + (next.at - base.at) - next.redisMs) <= aged + next.errorMs;
      if (agree && aged <= next.errorMs) return;
    }
    this.#base = next;
  }

  get synced(): boolean {
    return this.#base !== undefined;
  }

  /** Half the round trip of the reading in use (drift since not counted): how far off Redis's time this clock may be. */
  get errorMs(): number {
    return this.#base?.errorMs ?? Infinity;
  }

  /** Redis's time now (epoch ms), or the local wall clock before the first sync. */
  now(): number {
    const base = this.#base;
    return base ? base.redisMs + (this.#mono() - base.at) : this.#wall();
  }

  /** The local wall clock's offset from Redis's (positive: this host is ahead). */
  skewMs(): number | undefined {
    return this.#base ? this.#wall() - this.now() : undefined;
  }
}

/** TIME's answer (seconds, microseconds) in epoch ms. */
export const timeToMs = (answer: readonly (string | number)[]): number => Number(answer[0]) * 1000 + Number(answer[1]) / 1000;
