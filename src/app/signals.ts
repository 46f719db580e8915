export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
const SIGNALS: StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The handlers of holdStopSignals, while they hold. */
let early: ((signal: StopSignal) => void) | undefined;

function releaseEarly(): void {
  if (!early) return;
  for (const signal of SIGNALS) process.off(signal, early);
  early = undefined;
}

/**
 * From the CLI's first line until the job's own handlers exist (onStopSignals takes over): a stop
 * signal ends what rpr started ahead of the job (`endStarted`: the run launcher, a process of its
 * own session that a terminal's Ctrl-C does not reach), then rpr ends by that signal, exactly as
 * it would have without handlers (a shell sees a death by SIGINT). A second signal while it ends
 * them ends rpr at once, by the default action.
 */
export function holdStopSignals(endStarted: () => Promise<void>): void {
  releaseEarly();
  early = (signal) => {
    releaseEarly();
    // With no listener left, the signal's disposition is the default again: this ends rpr.
    void endStarted().finally(() => process.kill(process.pid, signal));
  };
  for (const signal of SIGNALS) process.on(signal, early);
}

/**
 * First SIGINT/SIGTERM/SIGHUP: graceful stop. Any second one: stop now.
 * Returns a function that removes the handlers.
 */
export function onStopSignals(graceful: (signal: StopSignal) => void, immediate: () => void): () => void {
  let received = 0;
  const handler = (signal: StopSignal): void => {
    received++;
    if (received === 1) graceful(signal);
    else immediate();
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  // Installed first, then the early ones go: no moment without a handler.
  releaseEarly();
  return () => SIGNALS.forEach((signal) => process.off(signal, handler));
}
