import type { JobObserver } from '../job/events.js';
import type { Listening } from '../observe/listen.js';
import { VERSION } from '../version.js';

export interface ObservabilityOptions {
  healthPort?: number;
  healthAddr?: string;
  metricsPort?: number;
  metricsAddr?: string;
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
      servers.push(await startMetricsServer({ host: options.metricsAddr ?? DEFAULT_ADDR, port: options.metricsPort, metrics }));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { observers, close };
}
