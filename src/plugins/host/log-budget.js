// @ts-check
/**
 * How much a plugin may log in one call (worker-preload.js and kernel-functions.ts apply it): a
 * line is cut at LINE_BYTES, and a call may log LINE_BUDGET lines or CALL_BYTES bytes; what is over
 * is dropped and counted, and one line at the end of the call says so. The token bucket of
 * log-limit.ts then limits lines over time. Plain JavaScript: it is loaded into Extism's worker
 * threads as it is, from src/ under the tests as from dist/.
 */
export const LINE_BYTES = 2048;
export const CALL_BYTES = 64 * 1024;
export const LINE_BUDGET = 200;

/** @param {number} lines @param {number} bytes */
export const droppedLine = (lines, bytes) => `${lines} log line(s) (${bytes} bytes) dropped: a call may log ${LINE_BUDGET} lines or ${CALL_BYTES} bytes`;
