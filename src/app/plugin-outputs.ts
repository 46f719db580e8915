import type { JobEvent, JobObserver } from '../job/events.js';
import type { PluginHandle } from '../plugins/index.js';
import { isPluginError } from '../plugins/errors.js';
import { outputDeliver } from '../plugins/kinds.js';
import { WIRE_EVENT_TYPES } from '../plugins/messages.js';

/** Events waiting for a slow or dead output plugin; beyond this the oldest are dropped and counted. */
export const OUTPUT_BACKLOG = 1000;

export interface OutputStats {
  delivered: number;
  failed: number;
  dropped: number;
}

/**
 * Feeds job events to output plugins, in order, one at a time per plugin, off
 * the job's path: a failing or slow output never delays or stops the job. Its
 * failures are reported (once per plugin per kind of failure, then counted).
 */
export function outputObserver(handles: PluginHandle[], report: (line: string) => void): { observer: JobObserver; drain(timeoutMs: number): Promise<void>; stats: Map<string, OutputStats> } {
  const stats = new Map<string, OutputStats>();
  /** Set when the job's wait for its outputs ran out: what they still hold is dropped (counted), not tried. */
  let givenUp = false;
  const queues = handles.map((handle) => {
    const queue: JobEvent[] = [];
    const counts: OutputStats = { delivered: 0, failed: 0, dropped: 0 };
    stats.set(handle.name, counts);
    const reported = new Set<string>();
    let busy: Promise<void> | null = null;
    /** An event is in the plugin's hands; `abandoned` once giveUp has counted it as dropped. */
    let delivering = false;
    let abandoned = false;
    const pump = async (): Promise<void> => {
      while (queue.length > 0 && !givenUp) {
        const event = queue.shift()!;
        delivering = true;
        try {
          await outputDeliver(handle, event, event.type === 'run-end' ? event.result.outputTail : undefined);
          if (!abandoned) counts.delivered++;
        } catch (error) {
          if (abandoned) continue; // counted as dropped when rpr stopped waiting for it
          // rpr closed the plugin after giving up on it: not the plugin's failure, nothing to report.
          // (Closing terminates a call stuck in the plugin: that call ends as closed or worker-died.)
          if (givenUp && isPluginError(error) && (error.failure === 'closed' || error.failure === 'worker-died')) {
            counts.dropped++;
            continue;
          }
          counts.failed++;
          const message = (error as Error).message;
          const kind = message.replace(/\d+/g, 'N');
          if (!reported.has(kind)) {
            reported.add(kind);
            report(`rpr: output ${message} (the job goes on; later failures like this are counted, not shown)`);
          }
        } finally {
          delivering = false;
          abandoned = false;
        }
      }
      busy = null;
    };
    return {
      push(event: JobEvent): void {
        if (givenUp) {
          counts.dropped++;
          return;
        }
        if (queue.length >= OUTPUT_BACKLOG) {
          queue.shift();
          counts.dropped++;
        }
        queue.push(event);
        busy ??= pump();
      },
      idle: (): Promise<void> => busy ?? Promise.resolve(),
      giveUp: (waitedMs: number): void => {
        // A plugin that failed was reported already; one that is merely slow is reported here, once.
        if (queue.length > 0 && reported.size === 0) {
          report(`rpr: output plugin "${handle.name}": ${queue.length} event${queue.length === 1 ? '' : 's'} not delivered (still busy ${waitedMs} ms after the job ended)`);
        }
        counts.dropped += queue.length;
        queue.length = 0;
        // Nor is the event in the plugin's hands waited for: it counts as dropped now, so the counts add up when the job ends.
        if (delivering && !abandoned) {
          counts.dropped++;
          abandoned = true;
        }
      },
    };
  });
  return {
    observer: (event) => {
      if (WIRE_EVENT_TYPES.has(event.type)) queues.forEach((q) => q.push(event));
    },
    async drain(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([Promise.all(queues.map((q) => q.idle())).then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]);
      clearTimeout(timer);
      if (!drained) {
        givenUp = true;
        queues.forEach((q) => q.giveUp(timeoutMs));
      }
    },
    stats,
  };
}
