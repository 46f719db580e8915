/**
 * A plugin's log lines are untrusted output: a loop around log_info must not flood rpr's stderr.
 * Token bucket per plugin; dropped lines are counted and the count is reported with the next line
 * that gets through.
 */
import type { LogSink } from './instance.js';

export function rateLimited(sink: LogSink, burst = 50, perSecond = 10): LogSink {
  let tokens = burst;
  let last = Date.now();
  let dropped = 0;
  return (level, message) => {
    const now = Date.now();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * perSecond);
    last = now;
    if (tokens < 1) {
      dropped++;
      return;
    }
    tokens--;
    if (dropped > 0) {
      sink('warn', `${dropped} log line(s) dropped (too many)`);
      dropped = 0;
    }
    sink(level, message);
  };
}
