/**
 * Releases the SDK's reply writer after we terminate a worker.
 *
 * In rc13, a host function's reply is written into a SharedArrayBuffer and the main thread then
 * waits (Atomics.waitAsync in a loop, plus a setInterval(0)) for the worker to acknowledge it. If
 * the worker was terminated while a host call was in flight (a plugin killed by the watchdog in the
 * middle of http_request, say), that acknowledgement never comes: the loop spins forever and keeps
 * the process from exiting. Measured: a plugin stopped during a host call left `node` running
 * indefinitely. Writing a value no writer waits for (-1; real offsets are >= 4) and notifying makes
 * each wait return; we keep doing so while host calls of the dead instance are still running, and
 * for a grace period after, then stop.
 */
const TICK_MS = 10;
const GRACE_MS = 500;
const MAX_MS = 60_000;

export function releaseWriter(shared: SharedArrayBuffer, inflight: () => number): void {
  const flag = new Int32Array(shared, 0, 1);
  const started = Date.now();
  let quietSince = Date.now();
  const timer = setInterval(() => {
    Atomics.store(flag, 0, -1);
    Atomics.notify(flag, 0);
    const now = Date.now();
    if (inflight() > 0) quietSince = now;
    if (now - quietSince > GRACE_MS || now - started > MAX_MS) clearInterval(timer);
  }, TICK_MS);
  // Never the reason the process stays up.
  timer.unref();
}
