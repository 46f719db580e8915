/**
 * The jobs of `rpr up` as data: what /health, the JSON API (docs/up.md) and the page show, from
 * one place so that they agree.
 */
import type { Supervisor } from './supervisor.js';
import type { RunRecord } from './history.js';
import type { UpJob } from './job.js';

/** Cells of the strip of recent runs. */
const RECENT = 30;

export interface JobView {
  name: string;
  status: UpJob['status'];
  paused: boolean;
  schedule: string;
  restart: string;
  next_run: string | null;
  runs: number;
  successes: number;
  failures: number;
  timeouts: number;
  skipped: number;
  success_rate: number | null;
  restarts: number;
  last_exit: number | null;
  error: string | null;
  last_run: { run: number; time: string; outcome: string; exit_code: number | null; duration_ms: number } | null;
  /** Oldest first. */
  recent: { run: number; outcome: string; duration_ms: number; time: string }[];
}

function jobView(job: UpJob, history: readonly RunRecord[]): JobView {
  const s = job.state.snapshot();
  const runs = history.filter((r) => r.outcome !== 'skipped');
  const last = runs.at(-1);
  return {
    name: job.name,
    status: job.status,
    paused: job.paused,
    schedule: job.describe || job.config.schedule,
    restart: job.restart,
    next_run: s.nextDueWall === null || job.paused ? null : new Date(s.nextDueWall).toISOString(),
    runs: s.runs,
    successes: s.successes,
    failures: s.failures,
    timeouts: s.timeouts,
    skipped: s.skipped,
    success_rate: s.runs > 0 ? Math.round((s.successes / s.runs) * 1000) / 1000 : null,
    restarts: job.restarts,
    last_exit: job.lastExit,
    error: job.lastError ?? null,
    last_run: last ? { run: last.run, time: new Date(last.startWall).toISOString(), outcome: last.outcome, exit_code: last.exitCode, duration_ms: last.durationMs } : null,
    recent: history.slice(-RECENT).map((r) => ({ run: r.run, outcome: r.outcome, duration_ms: r.durationMs, time: new Date(r.startWall).toISOString() })),
  };
}

export function jobsView(up: Supervisor): JobView[] {
  return [...up.jobs.values()].sort((a, b) => a.name.localeCompare(b.name)).map((job) => jobView(job, up.history.runs(job.name)));
}

/** Ready: every job has started (or ended as it should), none is failing to start or restarting. */
export function isReady(up: Supervisor): boolean {
  return [...up.jobs.values()].every((job) => job.status === 'running' || job.status === 'paused' || job.status === 'finished');
}
