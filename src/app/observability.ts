import type { JobObserver } from '../job/events.js';
import type { Listening } from '../observe/listen.js';
import { VERSION } from '../version.js';

export interface ObservabilityOptions {
  healthPort?: number;
  healthAddr?: string;
  metricsPort?: number;
  metricsAddr?: string;
  /** Output plugins' delivery counts by plugin name (plugin-outputs.ts), read at each scrape. */
  outputStats?: ReadonlyMap<string, { delivered: number; failed: number; dropped: number }>;
}

const DEFAULT_ADDR = '127.0.0.1';

/** Starts the health and metrics servers that were asked for, before the first run. */
export async function startObservability(options: ObservabilityOptions, job: string): Promise<{ observers: JobObserver[]; close(): Promise<void> }> {
  const observers: JobObserver[] = [];
  const servers: Listening[] = [];
  const close = async (): Promise<void> => void (await Promise.all(servers.map((server) => server.close())));
  try {
    // Loaded only when asked for: prom-client alone adds a tenth of a second to start-up.
    if (options.healthPort !== undefined) {
      const { startHealthServer } = await import('../observe/health.js');
      const { createJobState } = await import('../observe/state.js');
      const state = createJobState(job, VERSION);
      observers.push(state.observe);
      servers.push(await startHealthServer({ host: options.healthAddr ?? DEFAULT_ADDR, port: options.healthPort, state }));
    }
    if (options.metricsPort !== undefined) {
      const { createMetrics, startMetricsServer } = await import('../observe/metrics.js');
      const metrics = createMetrics({ job });
      observers.push(metrics.observe);
      const outputStats = options.outputStats;
      if (outputStats) {
        metrics.counter('rpr_output_events_total', 'Job events given to output plugins, by plugin and result: delivered, failed (the plugin or its endpoint failed), dropped (backlog full, or the job ended first).', ['plugin', 'result'], function () {
          this.reset();
          for (const [plugin, counts] of outputStats) for (const result of ['delivered', 'failed', 'dropped'] as const) this.inc({ plugin, result }, counts[result]);
        });
      }
      servers.push(await startMetricsServer({ host: options.metricsAddr ?? DEFAULT_ADDR, port: options.metricsPort, metrics }));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { observers, close };
}
