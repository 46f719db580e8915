export interface LinkEvents {
  /** Redis became unusable (`first`: it never was since the job started). */
  down(reason: string, first: boolean): void;
  /** Redis answers again after being down for `downMs`. */
  up(downMs: number): void;
}

/**
 * Whether Redis is usable, and the one line per change: down once (however many calls fail while
 * it is), up once with how long it was away. The link decides what counts as either.
 */
export class Availability {
  #usable = false;
  #everUp = false;
  #downSince: number | undefined;

  constructor(private readonly events: LinkEvents) {}

  get usable(): boolean {
    return this.#usable;
  }

  down(reason: string): void {
    const wasUsable = this.#usable;
    this.#usable = false;
    if (this.#downSince !== undefined) return;
    this.#downSince = Date.now();
    this.events.down(reason, !this.#everUp && !wasUsable);
  }

  up(): void {
    this.#usable = true;
    this.#everUp = true;
    if (this.#downSince === undefined) return;
    const downMs = Date.now() - this.#downSince;
    this.#downSince = undefined;
    this.events.up(downMs);
  }

  /** Closed by the job: not usable, and nothing more to say. */
  end(): void {
    this.#usable = false;
  }
}
