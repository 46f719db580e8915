/**
 * app/signals.ts: the CLI's early hold on stop signals (before the job's handlers exist) and its
 * hand-over to the job's own. The end-to-end side (Ctrl-C during a plugin load ends the launcher
 * started ahead, then rpr by the signal) is in test/e2e/plugins-host-live.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { holdStopSignals, onStopSignals } from '../../src/app/signals.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const counts = (): number[] => SIGNALS.map((s) => process.listenerCount(s));
const removers: (() => void)[] = [];

afterEach(() => {
  removers.splice(0).forEach((remove) => remove());
  vi.restoreAllMocks();
});

describe('stop signals before and after the job has its own handlers', () => {
  it('held early: the first signal ends what was started ahead, then rpr by the same signal, with no handler left', async () => {
    const before = counts();
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    let ended = 0;
    holdStopSignals(async () => void ended++);
    expect(counts()).toEqual(before.map((n) => n + 1));
    process.emit('SIGTERM', 'SIGTERM');
    // Its handler is gone at once: a second signal meets the default action.
    expect(counts()).toEqual(before);
    await vi.waitFor(() => expect(kill).toHaveBeenCalledWith(process.pid, 'SIGTERM'));
    expect(ended).toBe(1);
  });

  it("the job's handlers take over: the early ones are removed, and a signal reaches only the job's", () => {
    const before = counts();
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    let ended = 0;
    holdStopSignals(async () => void ended++);
    const graceful = vi.fn();
    removers.push(onStopSignals(graceful, () => undefined));
    expect(counts()).toEqual(before.map((n) => n + 1));
    process.emit('SIGINT', 'SIGINT');
    expect(graceful).toHaveBeenCalledWith('SIGINT');
    expect(ended).toBe(0);
    expect(kill).not.toHaveBeenCalled();
  });
});
