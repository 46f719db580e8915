import type { JobEvent, JobObserver } from '../job/events.js';
import { outputDeliver, WIRE_EVENT_TYPES, type PluginHandle } from '../plugins/index.js';

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
  const queues = handles.map((handle) => {
    const queue: JobEvent[] = [];
    const counts: OutputStats = { delivered: 0, failed: 0, dropped: 0 };
    stats.set(handle.name, counts);
    const reported = new Set<string>();
    let busy: Promise<void> | null = null;
    const pump = async (): Promise<void> => {
      while (queue.length > 0) {
        const event = queue.shift()!;
        try {
          await outputDeliver(handle, event, event.type === 'run-end' ? event.result.outputTail : undefined);
          counts.delivered++;
        } catch (error) {
          counts.failed++;
          const message = (error as Error).message;
          const kind = message.replace(/\d+/g, 'N');
          if (!reported.has(kind)) {
            reported.add(kind);
            report(`rpr: output ${message} (the job goes on; later failures like this are counted, not shown)`);
          }
        }
      }
      busy = null;
    };
    return {
      push(event: JobEvent): void {
        if (queue.length >= OUTPUT_BACKLOG) {
          queue.shift();
          counts.dropped++;
        }
        queue.push(event);
        busy ??= pump();
      },
      idle: (): Promise<void> => busy ?? Promise.resolve(),
    };
  });
  return {
    observer: (event) => {
      if (WIRE_EVENT_TYPES.has(event.type)) queues.forEach((q) => q.push(event));
    },
    async drain(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(queues.map((q) => q.idle())),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    },
    stats,
  };
}
