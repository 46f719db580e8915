/**
 * --on-overlap skip across instances: the instance that wins a slot holds the job's lease in Redis
 * while its run goes on (taken by the claim itself, scripts.ts CLAIM), renews it every RENEW_MS, and
 * gives it back when the run ends, noting when it ended. A slot another instance reaches meanwhile
 * is skipped, as a local run's next slot is skipped while it runs.
 *
 * A lease holder that dies (or loses Redis) stops renewing: its lease expires LEASE_TTL_MS after the
 * last renewal, and until then the job's slots are skipped, as if its run went on - it may well: a
 * killed rpr's command keeps running, and an rpr cut off from Redis keeps its run going. Running the
 * next slot at once instead would risk two runs at the same time, which is what the lease is for.
 */
import type { Shared } from './shared.js';

/** A lease not renewed for this long is free again. */
export const LEASE_TTL_MS = 5000;
/** A run's lease is renewed this often. */
const RENEW_MS = 1000;
/** How long a renewal or a release may take before it is given up. */
const CALL_MS = 2000;

export class Lease {
  readonly #shared: Shared;
  /** How long Redis remembers when the last run ended (as long as a claim lives). */
  readonly #ranTtlMs: number;
  /** "instance due" of the run holding the lease here, and that slot in words. */
  #held: string | undefined;
  #label = '';
  #timer: NodeJS.Timeout | undefined;
  #lostSaid = false;

  constructor(shared: Shared, ranTtlMs: number) {
    this.#shared = shared;
    this.#ranTtlMs = ranTtlMs;
  }

  /** The claim won `dueWall` and took the lease with it: renew it until the run ends. */
  hold(dueWall: number, label: string): void {
    this.#stopRenewing();
    this.#held = `${this.#shared.instance} ${dueWall}`;
    this.#label = label;
    this.#lostSaid = false;
    this.#timer = setInterval(() => void this.#renew(), RENEW_MS);
    // The job's own timers keep rpr alive, not this one.
    this.#timer.unref();
  }

  /**
   * The run ended at `endWall` (or never started): the lease is given back. Sent at once, on the
   * connection the next claim goes through, so Redis has it before that claim.
   */
  release(endWall: number): Promise<void> {
    const held = this.#held;
    this.#stopRenewing();
    this.#held = undefined;
    if (held === undefined || !this.#shared.link.usable) return Promise.resolve();
    const { keys, link } = this.#shared;
    return link.call('rprRelease', [keys.lease, keys.ran], [held, endWall, this.#ranTtlMs], CALL_MS).then(
      () => undefined,
      () => undefined,
    );
  }

  /**
   * A claim won but not run (no replica acknowledged it): the lease it took is given back at once,
   * as a run that never was - it does not skip any slot. Redis counts as away meanwhile: sent aside.
   */
  abandon(dueWall: number): Promise<void> {
    this.#stopRenewing();
    this.#held = undefined;
    const { keys, link, instance } = this.#shared;
    return link.callAside('rprRelease', [keys.lease, keys.ran], [`${instance} ${dueWall}`, -1, this.#ranTtlMs], CALL_MS);
  }

  async #renew(): Promise<void> {
    const held = this.#held;
    const { link, keys, status } = this.#shared;
    if (held === undefined || !link.usable) return;
    try {
      const [verdict, holder] = await link.call('rprRenew', [keys.lease], [held, LEASE_TTL_MS], CALL_MS);
      if (verdict !== 'lost' || this.#lostSaid || this.#held !== held) return;
      this.#lostSaid = true;
      status.warn(`the lease of the run of ${this.#label} here expired and ${holder?.split(' ')[0] ?? 'another instance'} took it: two runs may go on at once`);
    } catch {
      // Redis is away: renewed again in a second; the lease outlives LEASE_TTL_MS of that.
    }
  }

  #stopRenewing(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
