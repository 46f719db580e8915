import type { JobSnapshot, JobState } from './state.js';
import { sendJson, serveRoutes, type Listening, type Route } from './listen.js';

export interface HealthOptions {
  host: string;
  port: number;
  state: JobState;
  /** Epoch ms; injected for tests. */
  wallNow?: () => number;
}

/**
 * /health body. `status` is "failing" while the most recent run failed, else
 * "ok" (also before any run). The HTTP status stays 200 either way: the
 * command failing is not rpr failing, and a liveness probe must not restart
 * the scheduler for it. Alert on `status` or on rpr_runs_total instead.
 */
export function healthBody(s: JobSnapshot, wallNow: number) {
  return {
    status: s.lastRun && !s.lastRun.success ? 'failing' : 'ok',
    state: s.status,
    job: s.name,
    version: s.version,
    // Counted from job-start (0 until then), so it never goes backwards when the job starts.
    uptime_seconds: s.status === 'starting' ? 0 : Math.max(0, Math.round(wallNow - s.startedWall) / 1000),
    runs: s.runs,
    successes: s.successes,
    failures: s.failures,
    timeouts: s.timeouts,
    skipped: s.skipped,
    last_run: s.lastRun && {
      time: new Date(s.lastRun.startWall).toISOString(),
      exit_code: s.lastRun.exitCode,
      success: s.lastRun.success,
      // Microseconds at most: the monotonic clock's float noise (1.8056329999999434) is not information.
      duration_ms: Math.round(s.lastRun.durationMs * 1000) / 1000,
    },
    next_run: s.nextDueWall === null ? null : new Date(s.nextDueWall).toISOString(),
    // Only for --coordinate jobs.
    ...(s.coordination
      ? {
          coordination: {
            backend: s.coordination.backend,
            instance: s.coordination.instance,
            connected: s.coordination.connected,
            slots_claimed: s.coordination.claimed,
            slots_lost: s.coordination.lost,
            slots_unavailable: s.coordination.unavailable,
            runs_local: s.coordination.local,
            on_loss: s.coordination.onLoss,
          },
        }
      : {}),
  };
}

export function healthRoutes({ state, wallNow = Date.now }: Pick<HealthOptions, 'state' | 'wallNow'>): Record<string, Route> {
  return {
    '/health': (_req, res) => sendJson(res, 200, healthBody(state.snapshot(), wallNow())),
    '/ready': (_req, res) => {
      const status = state.snapshot().status;
      sendJson(res, status === 'running' ? 200 : 503, { ready: status === 'running', state: status });
    },
    '/live': (_req, res) => sendJson(res, 200, { live: true }),
  };
}

export function startHealthServer(options: HealthOptions): Promise<Listening> {
  return serveRoutes('health', options.host, options.port, healthRoutes(options));
}
