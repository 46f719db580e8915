import type { JobObserver } from '../job/events.js';
import { serveRoutes, type Listening, type Route } from '../observe/listen.js';
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

/**
 * Starts the health and metrics servers that were asked for, before the first run. The same port
 * (and address) for both is one server answering /health, /ready, /live and /metrics: asking for
 * it must not fail as "already in use" by rpr itself.
 */
export async function startObservability(options: ObservabilityOptions, job: string): Promise<{ observers: JobObserver[]; close(): Promise<void> }> {
  const observers: JobObserver[] = [];
  const servers: Listening[] = [];
  const close = async (): Promise<void> => void (await Promise.all(servers.map((server) => server.close())));
  const healthHost = options.healthAddr ?? DEFAULT_ADDR;
  const metricsHost = options.metricsAddr ?? DEFAULT_ADDR;
  const shared = options.healthPort !== undefined && options.healthPort === options.metricsPort && options.healthPort !== 0 && healthHost === metricsHost;
  try {
    // Loaded only when asked for: prom-client alone adds a tenth of a second to start-up.
    let health: Record<string, Route> | undefined;
    if (options.healthPort !== undefined) {
      const { healthRoutes } = await import('../observe/health.js');
      const { createJobState } = await import('../observe/state.js');
      const state = createJobState(job, VERSION);
      observers.push(state.observe);
      health = healthRoutes({ state });
      if (!shared) servers.push(await serveRoutes('health', healthHost, options.healthPort, health));
    }
    if (options.metricsPort !== undefined) {
      const { createMetrics, metricsRoutes } = await import('../observe/metrics.js');
      const metrics = createMetrics({ job });
      observers.push(metrics.observe);
      const outputStats = options.outputStats;
      if (outputStats) {
        metrics.counter('rpr_output_events_total', 'Job events given to output plugins, by plugin and result: delivered, failed (the plugin or its endpoint failed), dropped (backlog full, or the job ended first).', ['plugin', 'result'], function () {
          this.reset();
          for (const [plugin, counts] of outputStats) for (const result of ['delivered', 'failed', 'dropped'] as const) this.inc({ plugin, result }, counts[result]);
        });
      }
      const routes = shared ? { ...health, ...metricsRoutes(metrics) } : metricsRoutes(metrics);
      servers.push(await serveRoutes('metrics', metricsHost, options.metricsPort, routes));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { observers, close };
}
