// @ts-check
/**
 * Loaded into every Extism worker thread before Extism's own code (node --import, see
 * worker-instance.ts). Extism's worker posts each log line of the plugin to the main thread as a
 * message, without waiting: a plugin logging 1 MiB lines in a loop (no permission needed) buried
 * rpr's main thread in messages, so the watchdog's timer and the signal handlers never ran, and
 * memory grew ~300 MB/s. Here the lines are bounded where they are produced, per call, before they
 * are posted (log-budget.ts): at most LINE_BUDGET lines and CALL_BYTES bytes, each cut at
 * LINE_BYTES; what is over is counted and said in one line when the call returns.
 * It relies on rc13's messages: {type: 'invoke', handler: 'call'} in, {type: 'log'} and
 * {type: 'return'} out. Extism's notice of a refused kernel allocation always goes through: it is
 * how rpr knows to stop the plugin.
 */
import { parentPort } from 'node:worker_threads';
import { CALL_BYTES, LINE_BUDGET, LINE_BYTES, droppedLine } from './log-budget.js';

if (parentPort) {
  const port = parentPort;
  const post = port.postMessage.bind(port);
  let lines = 0;
  let bytes = 0;
  let droppedLines = 0;
  let droppedBytes = 0;
  // Registered before Extism's own listener: the budget opens before the call starts.
  port.on('message', (/** @type {any} */ message) => {
    if (message?.type === 'invoke' && message.handler === 'call') lines = bytes = droppedLines = droppedBytes = 0;
  });
  /** @param {any} message @param {any} [transfer] */
  port.postMessage = (message, transfer) => {
    if (message?.type === 'log' && typeof message.message === 'string') {
      const text = /** @type {string} */ (message.message);
      if (/^memory limit exceeded/.test(text)) return post(message, transfer);
      if (lines >= LINE_BUDGET || bytes >= CALL_BYTES) {
        droppedLines++;
        droppedBytes += text.length;
        return;
      }
      const room = Math.min(LINE_BYTES, CALL_BYTES - bytes);
      const shown = text.length > room ? `${text.slice(0, room)} ...(${text.length} bytes)` : text;
      lines++;
      bytes += Math.min(text.length, room);
      return post({ type: 'log', level: message.level, message: shown });
    }
    if (message?.type === 'return' && droppedLines > 0) {
      post({ type: 'log', level: 'warn', message: droppedLine(droppedLines, droppedBytes) });
      droppedLines = droppedBytes = 0;
    }
    return post(message, transfer);
  };
}
