import type { CoordinationState, ScheduleEvent } from '../schedule/events.js';
import { formatDuration } from '../units/duration.js';
import type { LinkEvents } from './redis.js';

export type LossPolicy = CoordinationState['onLoss'];

export interface StatusOptions {
  instance: string;
  onLoss: LossPolicy;
  /** Where Redis is, for messages (no password). */
  shown: string;
  /** What skip / run-local mean for this job, in words: "no runs" vs "no slots claimed"... */
  whileDown: Record<LossPolicy, string>;
  /** A line on stderr (always). */
  warn: (line: string) => void;
  /** A line on stderr with --verbose only. */
  verbose?: (line: string) => void;
}

/**
 * The coordination state health and metrics show, the one line on stderr when Redis goes away and
 * the one when it is back, and the --verbose lines saying which instance ran what.
 */
export class CoordinationStatus implements LinkEvents {
  readonly #state: CoordinationState;
  readonly #options: StatusOptions;
  #emit: (event: ScheduleEvent) => void = () => {};
  /** Counts when Redis went away, for the line that says it is back. */
  #atDown = { unavailable: 0, local: 0 };

  constructor(options: StatusOptions) {
    this.#options = options;
    this.#state = { backend: 'redis', instance: options.instance, connected: false, claimed: 0, lost: 0, unavailable: 0, local: 0, onLoss: options.onLoss };
  }

  get state(): Readonly<CoordinationState> {
    return this.#state;
  }

  bind(emit: (event: ScheduleEvent) => void): void {
    this.#emit = emit;
    this.#changed();
  }

  count(what: 'claimed' | 'lost' | 'unavailable' | 'local'): void {
    this.#state[what]++;
    this.#changed();
  }

  say(line: string): void {
    this.#options.verbose?.(`rpr: coordination: ${line}`);
  }

  /** A line on stderr whatever --verbose says: something the user should know. */
  warn(line: string): void {
    this.#options.warn(`rpr: coordination: ${line}`);
  }

  /** Slots passed because a run went on on another instance (--on-overlap skip across instances). */
  skipped(count: number): void {
    if (count > 0) this.#emit({ type: 'skipped', count });
  }

  down(reason: string, first: boolean): void {
    const { shown, onLoss, whileDown } = this.#options;
    this.#atDown = { unavailable: this.#state.unavailable, local: this.#state.local };
    this.#state.connected = false;
    this.#changed();
    const what = first ? `cannot reach Redis at ${shown}` : `lost Redis at ${shown}`;
    this.#options.warn(`rpr: coordination: ${what} (${reason}); ${whileDown[onLoss]} until it is back (--on-coordination-loss ${onLoss})`);
  }

  up(downMs: number): void {
    this.#state.connected = true;
    this.#changed();
    const skipped = this.#state.unavailable - this.#atDown.unavailable;
    const local = this.#state.local - this.#atDown.local;
    const what = this.#options.onLoss === 'skip' ? `${skipped} slot${skipped === 1 ? '' : 's'} not run here meanwhile` : `${local} run${local === 1 ? '' : 's'} started without it`;
    this.#options.warn(`rpr: coordination: Redis at ${this.#options.shown} is back after ${formatDuration(downMs)} (${what})`);
  }

  /** Connected at the start (no message: there was nothing wrong). */
  connected(): void {
    if (this.#state.connected) return;
    this.#state.connected = true;
    this.#changed();
  }

  #changed(): void {
    this.#emit({ type: 'coordination', state: { ...this.#state } });
  }
}
