export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
const SIGNALS: StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

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
  return () => SIGNALS.forEach((signal) => process.off(signal, handler));
}
