/**
 * The host side of metering (wasm/meter.ts). A metered module calls tick whenever the fuel it was
 * given is spent: tick hands out more until the call's deadline, then throws, and the exception
 * unwinds every wasm frame of the call. Per call this costs a clock read (and one per tick), where
 * node:vm's watchdog starts and joins a thread.
 */
import { monotonicMs } from '../../clock/clock.js';
import { METER_MODULE, METER_TICK } from '../wasm/meter.js';

/**
 * Fuel for one tick. Weights (meter.ts) make a unit some 32 bytes of straight code, one iteration
 * of a small loop, or 64 bytes of a bulk memory operation: 2^20 units are a few milliseconds of the
 * module's work, so a call is stopped within a few milliseconds of its limit, and a busy call asks
 * for the time every few milliseconds.
 */
const FUEL = 2 ** 20;

export class Fuel {
  /** Outside a call nothing may run: any guest code is stopped at its first tick. */
  #deadline = Number.NEGATIVE_INFINITY;
  /** The last call was stopped at its deadline. */
  expired = false;

  #tick(): number {
    this.#check();
    return FUEL;
  }

  #check(): void {
    if (monotonicMs() <= this.#deadline) return;
    this.expired = true;
    throw new Error('ran out of time');
  }

  /**
   * The host functions of a metered instance, by namespace: each checks the deadline first (the
   * fuel counts the module's own work only: a loop that asks the host for a 1 MiB block or log line
   * each time spends a few units an iteration and milliseconds in the host), and tick. Extism calls
   * them with the call context first; tick takes nothing else.
   */
  functions<F extends (...args: never[]) => unknown>(namespaces: Record<string, Record<string, F>>): Record<string, Record<string, F | (() => number)>> {
    const checked = (fn: F) =>
      ((...args: never[]) => {
        this.#check();
        return fn(...args);
      }) as F;
    const wrapped = Object.entries(namespaces).map(([namespace, fns]) => [namespace, Object.fromEntries(Object.entries(fns).map(([name, fn]) => [name, checked(fn)]))]);
    return { ...Object.fromEntries(wrapped), [METER_MODULE]: { [METER_TICK]: () => this.#tick() } };
  }

  /** Runs `section` (a synchronous wasm call) with `limitMs` to run in. */
  run<T>(section: () => T, limitMs: number): T {
    this.expired = false;
    this.#deadline = monotonicMs() + limitMs;
    try {
      return section();
    } finally {
      this.#deadline = Number.NEGATIVE_INFINITY;
    }
  }
}
