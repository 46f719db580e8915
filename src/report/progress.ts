import type { JobObserver } from '../job/events.js';
import { formatDuration } from '../units/duration.js';

/**
 * The live status line on a terminal's stderr: drawn only between runs and
 * erased before a run starts, so it never interleaves with the command's output.
 * rpr's own lines go through `log`, which erases it, writes the line and draws it again,
 * so a --verbose line never lands on the end of the status line.
 */
export function progressLine(write: (text: string) => void, wallNow: () => number): { observer: JobObserver; log(text: string): void; stop(): void } {
  let runs = 0;
  let ok = 0;
  let nextDue: number | null = null;
  let shown = false;
  let running = 0;
  const clear = (): void => {
    if (shown) write('\r\x1b[K');
    shown = false;
  };
  const draw = (): void => {
    if (nextDue === null || running > 0) return;
    const rate = runs ? ` · ${((ok / runs) * 100).toFixed(0)}% ok` : '';
    write(`\r\x1b[Krpr: run ${runs + 1} in ${formatDuration(Math.max(0, nextDue - wallNow()))} · ${runs} done${rate}`);
    shown = true;
  };
  const timer = setInterval(draw, 250);
  timer.unref();
  return {
    log(text) {
      const wasShown = shown;
      clear();
      write(text);
      if (wasShown) draw();
    },
    observer: (event) => {
      if (event.type === 'next') nextDue = event.dueWall;
      if (event.type === 'run-start' || event.type === 'job-end') {
        if (event.type === 'run-start') running++;
        clear();
      }
      if (event.type === 'run-end') {
        running--;
        runs++;
        if (event.result.success) ok++;
      }
    },
    stop() {
      clearInterval(timer);
      clear();
    },
  };
}
