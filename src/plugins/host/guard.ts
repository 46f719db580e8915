/**
 * A CPU limit for code on rpr's own thread. V8 stops running JavaScript and WebAssembly alike when
 * the execution timeout of node:vm fires (measured: a wasm `loop br 0` stopped at 203 ms for a 200 ms
 * limit, with ERR_SCRIPT_EXECUTION_TIMEOUT). Each guarded section costs ~0.1 ms (node:vm starts a
 * watchdog thread for it). What the section started stays on this thread: a stuck call holds timers
 * and signal handlers back for at most its limit, which is why only plugins with short limits run
 * here (generation.ts).
 */
import vm from 'node:vm';

const context = vm.createContext(Object.create(null) as object);
const script = new vm.Script('guarded()', { filename: 'rpr-plugin-guard' });
const slot = context as { guarded?: () => void };

export class GuardTimeout extends Error {
  constructor(readonly limitMs: number) {
    super(`ran past its ${limitMs} ms limit`);
    this.name = 'GuardTimeout';
  }
}

/** Runs `section` synchronously; throws GuardTimeout if it ran out of time (it was stopped mid-way). */
export function runGuarded(section: () => void, limitMs: number): void {
  slot.guarded = section;
  try {
    script.runInContext(context, { timeout: Math.max(1, Math.ceil(limitMs)) });
  } catch (error) {
    if ((error as { code?: string })?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new GuardTimeout(limitMs);
    throw error;
  } finally {
    slot.guarded = undefined;
  }
}
