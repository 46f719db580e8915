import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CoordinationState } from '../schedule/events.js';
import { runOutcome, type ObserveEvent, type RunOutcome } from './state.js';
import { send, serveRoutes, type Listening, type Route } from './listen.js';

/** Command durations: from a quick probe (5 ms) to a five-minute batch job. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

const OUTCOMES: readonly RunOutcome[] = ['success', 'failure', 'timeout'];

export interface Metrics {
  observe(event: ObserveEvent): void;
  /** rpr's own registry; `job` is a default label, so metrics added here get it too. */
  registry: Registry;
  /**
   * Adds a counter to the registry (for later ones: plugin failures, HTTP-aware delays, ...);
   * `collect`, when given, sets its values at each scrape (counts kept elsewhere).
   */
  counter<L extends string = string>(name: string, help: string, labelNames?: readonly L[], collect?: (this: Counter<L>) => void): Counter<L>;
  gauge<L extends string = string>(name: string, help: string, labelNames?: readonly L[]): Gauge<L>;
}

/** `processMetrics: false`: a job of `rpr up`, whose process's own gauges (CPU, memory) are the supervisor's. */
export function createMetrics({ job, processMetrics = true }: { job: string; processMetrics?: boolean }): Metrics {
  // Never the global registry: tests and embedders may create several, and
  // global state would double-register or mix jobs.
  const registry = new Registry();
  registry.setDefaultLabels({ job });
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: 'rpr_' });
  // prom-client names three gauges *_total, which Prometheus reserves for counters (promtool check
  // metrics fails on them); the same counts are there without the suffix, by type.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(`rpr_${name}`);
  const registers = [registry];

  const runs = new Counter({ name: 'rpr_runs_total', help: 'Finished runs by result.', labelNames: ['result'], registers });
  // Zero series from the start, so rate() and absent() work before the first failure.
  for (const result of OUTCOMES) runs.inc({ result }, 0);
  const duration = new Histogram({
    name: 'rpr_run_duration_seconds',
    help: 'Wall time of each finished run.',
    buckets: DURATION_BUCKETS,
    registers,
  });
  const skipped = new Counter({ name: 'rpr_skipped_runs_total', help: 'Due slots skipped because a run was still going.', registers });
  skipped.inc(0);
  const hints = new Counter({ name: 'rpr_http_delay_hints_total', help: 'Runs delayed because the output asked for it (--http-aware).', registers });
  const hintSeconds = new Counter({ name: 'rpr_http_delay_seconds_total', help: 'Total delay applied for --http-aware hints.', registers });
  const next = new Gauge({
    name: 'rpr_next_run_timestamp_seconds',
    help: 'Epoch seconds the next (or current) run is due; 0 when none is scheduled.',
    registers,
  });
  next.set(0);
  const up = new Gauge({ name: 'rpr_up', help: '1 while the job is running, 0 while starting or shutting down.', registers });
  up.set(0);
  let stopping = false;
  /** --coordinate only: created with the first coordination state, counters fed by its increases. */
  let coordination: ((state: CoordinationState) => void) | undefined;

  return {
    registry,
    observe(event) {
      switch (event.type) {
        case 'job-start':
          if (!stopping) up.set(1);
          break;
        case 'run-end':
          runs.inc({ result: runOutcome(event.result) });
          duration.observe(Math.max(0, event.result.durationMs) / 1000);
          break;
        case 'skipped':
          skipped.inc(event.count);
          break;
        case 'delay-hint':
          hints.inc();
          hintSeconds.inc(event.delayMs / 1000);
          break;
        case 'next':
          if (!stopping) next.set(event.dueWall / 1000);
          break;
        case 'coordination':
          (coordination ??= coordinationMetrics(registers))(event.state);
          break;
        case 'stopping':
        case 'job-end':
          stopping = true;
          up.set(0);
          next.set(0);
          break;
      }
    },
    counter: (name, help, labelNames = [], collect) => new Counter({ name, help, labelNames, registers, ...(collect ? { collect } : {}) }),
    gauge: (name, help, labelNames = []) => new Gauge({ name, help, labelNames, registers }),
  };
}

/** rpr_coordination_*: whether Redis answers, and where this instance's slots went. */
function coordinationMetrics(registers: Registry[]): (state: CoordinationState) => void {
  const connected = new Gauge({ name: 'rpr_coordination_connected', help: '1 while the coordination Redis answers (--coordinate), else 0.', registers });
  const counters = {
    claimed: new Counter({ name: 'rpr_coordination_slots_claimed_total', help: 'Slots (or shared-limit starts) this instance claimed and ran.', registers }),
    lost: new Counter({ name: 'rpr_coordination_slots_lost_total', help: 'Slots another instance had already claimed.', registers }),
    unavailable: new Counter({ name: 'rpr_coordination_slots_unavailable_total', help: 'Slots not run because Redis could not be asked (--on-coordination-loss skip).', registers }),
    local: new Counter({ name: 'rpr_coordination_local_runs_total', help: 'Runs started without Redis while it was unavailable (--on-coordination-loss run-local).', registers }),
  };
  const seen = { claimed: 0, lost: 0, unavailable: 0, local: 0 };
  for (const counter of Object.values(counters)) counter.inc(0);
  return (state) => {
    connected.set(state.connected ? 1 : 0);
    for (const key of Object.keys(counters) as (keyof typeof counters)[]) {
      if (state[key] > seen[key]) counters[key].inc(state[key] - seen[key]);
      seen[key] = state[key];
    }
  };
}

/** The process's own gauges alone (`rpr up`: one set for all its jobs). */
export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rpr_' });
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(`rpr_${name}`);
  return registry;
}

/**
 * Several registries as one exposition: each metric family once (its HELP and TYPE), with the
 * samples of every registry under it (`rpr up`: one family, one series per `job`). prom-client's
 * Registry.merge refuses two metrics of one name, and plain concatenation repeats HELP/TYPE,
 * which Prometheus rejects.
 */
export async function mergedExposition(registries: readonly Registry[]): Promise<string> {
  const families = new Map<string, { head: string[]; samples: string[] }>();
  for (const text of await Promise.all(registries.map((r) => r.metrics()))) {
    let current: { head: string[]; samples: string[] } | undefined;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const head = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (head) {
        const name = head[2]!;
        const known = families.get(name);
        current = known ?? { head: [], samples: [] };
        if (!known) families.set(name, current);
        if (current.head.length < 2 && !current.head.some((h) => h.startsWith(`# ${head[1]} `))) current.head.push(line);
        continue;
      }
      current?.samples.push(line);
    }
  }
  return `${[...families.values()].map((f) => [...f.head, ...f.samples].join('\n')).join('\n\n')}\n`;
}

export function metricsRoutes({ registry }: Pick<Metrics, 'registry'>): Record<string, Route> {
  return { '/metrics': async (_req, res) => send(res, 200, registry.contentType, await registry.metrics()) };
}

export function startMetricsServer({ host, port, metrics }: { host: string; port: number; metrics: Pick<Metrics, 'registry'> }): Promise<Listening> {
  return serveRoutes('metrics', host, port, metricsRoutes(metrics));
}
