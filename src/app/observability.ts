import type { JobObserver } from '../job/events.js';
import type { Listening, Route } from '../observe/listen.js';
import { VERSION } from '../version.js';

export interface ObservabilityOptions {
  healthPort?: number;
  healthAddr?: string;
  metricsPort?: number;
  metricsAddr?: string;
  /** Output plugins' delivery counts by plugin name (plugin-outputs.ts), read at each scrape. */
  outputStats?: ReadonlyMap<string, { delivered: number; failed: number; dropped: number }>;
  /** The job's plugins and their call counts (PluginHandle.stats), read at each scrape. */
  pluginStats?: () => { plugin: string; stats: { calls: number; failures: number; rebuilds: number } }[];
}

const DEFAULT_ADDR = '127.0.0.1';

/**
 * Starts the health and metrics servers that were asked for, before the first run. The same port
 * (and address) for both is one server answering /health, /ready, /live and /metrics: asking for
 * it must not fail as "already in use" by rpr itself.
 */
export interface Observability {
  observers: JobObserver[];
  /** The ports really bound (a port 0 asked for becomes a free one). */
  ports: { health?: number; metrics?: number };
  close(): Promise<void>;
}

export async function startObservability(options: ObservabilityOptions, job: string): Promise<Observability> {
  const observers: JobObserver[] = [];
  const servers: Listening[] = [];
  const ports: Observability['ports'] = {};
  const close = async (): Promise<void> => void (await Promise.all(servers.map((server) => server.close())));
  const healthHost = options.healthAddr ?? DEFAULT_ADDR;
  const metricsHost = options.metricsAddr ?? DEFAULT_ADDR;
  const shared = options.healthPort !== undefined && options.healthPort === options.metricsPort && options.healthPort !== 0 && healthHost === metricsHost;
  if (options.healthPort === undefined && options.metricsPort === undefined) return { observers, ports, close };
  try {
    // Loaded only when asked for: prom-client alone adds a tenth of a second to start-up, and
    // node:http a few milliseconds to every job.
    const { serveRoutes } = await import('../observe/listen.js');
    let health: Record<string, Route> | undefined;
    if (options.healthPort !== undefined) {
      const { healthRoutes } = await import('../observe/health.js');
      const { createJobState } = await import('../observe/state.js');
      const state = createJobState(job, VERSION);
      observers.push(state.observe);
      health = healthRoutes({ state });
      if (!shared) {
        const server = await serveRoutes('health', healthHost, options.healthPort, health);
        servers.push(server);
        ports.health = server.port;
      }
    }
    if (options.metricsPort !== undefined) {
      const { createMetrics, metricsRoutes } = await import('../observe/metrics.js');
      const metrics = createMetrics({ job });
      observers.push(metrics.observe);
      const outputStats = options.outputStats;
      if (outputStats) {
        metrics.counter(
          'rpr_output_events_total',
          'Job events given to output plugins, by plugin and result: delivered, failed (the plugin or its endpoint failed), dropped (backlog full, or the job ended first).',
          ['plugin', 'result'],
          function () {
            this.reset();
            for (const [plugin, counts] of outputStats) for (const result of ['delivered', 'failed', 'dropped'] as const) this.inc({ plugin, result }, counts[result]);
          },
        );
      }
      const pluginStats = options.pluginStats;
      if (pluginStats) {
        for (const [key, name, help] of [
          ['calls', 'rpr_plugin_calls_total', 'Calls into each plugin of the job (decisions, plans, deliveries).'],
          ['failures', 'rpr_plugin_failures_total', 'Calls into each plugin that failed (timeout, trap, malformed answer, its own error).'],
          ['rebuilds', 'rpr_plugin_rebuilds_total', 'Instances of each plugin thrown away after a failure and built again.'],
        ] as const) {
          metrics.counter(name, help, ['plugin'], function () {
            this.reset();
            for (const { plugin, stats } of pluginStats()) this.inc({ plugin }, stats[key]);
          });
        }
      }
      const routes = shared ? { ...health, ...metricsRoutes(metrics) } : metricsRoutes(metrics);
      const server = await serveRoutes('metrics', metricsHost, options.metricsPort, routes);
      servers.push(server);
      ports.metrics = server.port;
      if (shared) ports.health = server.port;
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { observers, ports, close };
}
