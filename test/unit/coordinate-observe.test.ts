// Coordination state in /health and /metrics: absent for a job that is not coordinated, the latest
// state in /health, counters that follow the state's counts in /metrics.
import { describe, expect, it } from 'vitest';
import type { CoordinationState } from '../../src/job/events.js';
import { healthBody } from '../../src/observe/health.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { createJobState } from '../../src/observe/state.js';

const state = (over: Partial<CoordinationState> = {}): CoordinationState => ({
  backend: 'redis',
  instance: 'host:1',
  connected: true,
  claimed: 0,
  lost: 0,
  unavailable: 0,
  local: 0,
  onLoss: 'skip',
  ...over,
});

describe('coordination in health and metrics', () => {
  it('/health has no coordination key unless the job is coordinated, then its latest state', () => {
    const job = createJobState('j', '1.0.0', () => 0);
    expect(healthBody(job.snapshot(), 0)).not.toHaveProperty('coordination');
    job.observe({ type: 'coordination', state: state({ claimed: 2, lost: 5 }) });
    job.observe({ type: 'coordination', state: state({ connected: false, claimed: 2, lost: 5, unavailable: 1 }) });
    expect(healthBody(job.snapshot(), 0).coordination).toEqual({
      backend: 'redis',
      instance: 'host:1',
      connected: false,
      slots_claimed: 2,
      slots_lost: 5,
      slots_unavailable: 1,
      runs_local: 0,
      on_loss: 'skip',
    });
  });

  it('/metrics: rpr_coordination_* only once the job reports coordination; counters follow the counts', async () => {
    const metrics = createMetrics({ job: 'j' });
    expect(await metrics.registry.metrics()).not.toMatch(/rpr_coordination/);
    metrics.observe({ type: 'coordination', state: state() });
    metrics.observe({ type: 'coordination', state: state({ claimed: 3, lost: 4 }) });
    metrics.observe({ type: 'coordination', state: state({ connected: false, claimed: 3, lost: 4, unavailable: 2 }) });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^rpr_coordination_connected\{job="j"\} 0$/m);
    expect(text).toMatch(/^rpr_coordination_slots_claimed_total\{job="j"\} 3$/m);
    expect(text).toMatch(/^rpr_coordination_slots_lost_total\{job="j"\} 4$/m);
    expect(text).toMatch(/^rpr_coordination_slots_unavailable_total\{job="j"\} 2$/m);
    expect(text).toMatch(/^rpr_coordination_local_runs_total\{job="j"\} 0$/m);
  });
});
