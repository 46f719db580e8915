/**
 * One /health and one /metrics for every job of `rpr up`: /health lists each job's state, /ready is
 * ready when every job is, /metrics carries each job's series under its `job` label, once.
 */
import { healthBody } from '../observe/health.js';
import { sendJson, send, serveRoutes, type Listening, type Route } from '../observe/listen.js';
import type { Metrics } from '../observe/metrics.js';
import { VERSION } from '../version.js';
import type { Supervisor } from './supervisor.js';
import { isReady } from './view.js';

export interface UpServiceOptions {
  healthPort?: number;
  healthAddr?: string;
  metricsPort?: number;
  metricsAddr?: string;
}

export interface UpService {
  /** Each job's metrics (kept by name across reloads: a changed job's counters go on). */
  metricsFor?: (job: string) => Metrics;
  /** Starts the servers once the supervisor exists. */
  listen(up: Supervisor): Promise<{ health?: number; metrics?: number }>;
  close(): Promise<void>;
}

export async function upService(options: UpServiceOptions): Promise<UpService> {
  const servers: Listening[] = [];
  const byJob = new Map<string, Metrics>();
  // prom-client is loaded only when /metrics is asked for.
  const m = options.metricsPort !== undefined ? await import('../observe/metrics.js') : undefined;
  const process = m?.processRegistry();
  const healthRoutes = (up: Supervisor): Record<string, Route> => ({
    '/health': (_req, res) => {
      const jobs = [...up.jobs.values()].map((job) => ({ ...healthBody(job.state.snapshot(), Date.now()), state: job.status, restarts: job.restarts }));
      sendJson(res, 200, { status: jobs.some((j) => j.status === 'failing' || j.state === 'failed') ? 'failing' : 'ok', version: VERSION, jobs });
    },
    '/ready': (_req, res) => sendJson(res, isReady(up) ? 200 : 503, { ready: isReady(up) }),
    '/live': (_req, res) => sendJson(res, 200, { live: true }),
  });
  return {
    ...(m
      ? {
          metricsFor: (job: string): Metrics => {
            let metrics = byJob.get(job);
            if (!metrics) byJob.set(job, (metrics = m.createMetrics({ job, processMetrics: false })));
            return metrics;
          },
        }
      : {}),
    async listen(up) {
      const ports: { health?: number; metrics?: number } = {};
      const healthHost = options.healthAddr ?? '127.0.0.1';
      const metricsHost = options.metricsAddr ?? '127.0.0.1';
      const shared = options.healthPort !== undefined && options.healthPort === options.metricsPort && options.healthPort !== 0 && healthHost === metricsHost;
      const metricsRoute: Record<string, Route> = m
        ? {
            '/metrics': async (_req, res) => {
              // Jobs removed by a reload leave /metrics with them.
              const live = [...byJob].filter(([name]) => up.jobs.has(name)).map(([, metrics]) => metrics.registry);
              send(res, 200, process!.contentType, await m.mergedExposition([process!, ...live]));
            },
          }
        : {};
      if (options.healthPort !== undefined && !shared) {
        const server = await serveRoutes('health', healthHost, options.healthPort, healthRoutes(up));
        servers.push(server);
        ports.health = server.port;
      }
      if (options.metricsPort !== undefined) {
        const server = await serveRoutes('metrics', metricsHost, options.metricsPort, shared ? { ...healthRoutes(up), ...metricsRoute } : metricsRoute);
        servers.push(server);
        ports.metrics = server.port;
        if (shared) ports.health = server.port;
      }
      return ports;
    },
    close: async () => void (await Promise.all(servers.map((s) => s.close()))),
  };
}
