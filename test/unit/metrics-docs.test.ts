// Every metric rpr serves is in docs/metrics.md, and the Grafana dashboard and the alerting rules
// (docs/alerts.yml) ask only for metrics that exist: read from a real /metrics of the observability
// servers, fed one of every job event.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { startObservability } from '../../src/app/observability.js';
import type { JobEvent } from '../../src/job/events.js';

const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
const dashboard = readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8');
const alerts = readFileSync(new URL('../../docs/alerts.yml', import.meta.url), 'utf8');
const get = (port: number, path: string) =>
  new Promise<string>((resolve, reject) =>
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject),
  );

/** Metric names in the exposition text; histograms as their base name. */
const served = (text: string): string[] => [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
const isDefault = (name: string) => /^rpr_(process|nodejs)_/.test(name);

describe('metrics and their docs', () => {
  it('docs/metrics.md lists every rpr metric served; the dashboard and the alerting rules use only served ones', async () => {
    const { observers, ports, close } = await startObservability(
      {
        metricsPort: 0,
        outputStats: new Map([['webhook', { delivered: 1, failed: 0, dropped: 0 }]]),
        pluginStats: () => [{ plugin: 'fibonacci', stats: { calls: 3, failures: 1, rebuilds: 1 } }],
      },
      'docs-check',
    );
    try {
      const state = { backend: 'redis', instance: 'h:1', connected: true, claimed: 1, lost: 0, unavailable: 0, local: 0, onLoss: 'skip' } as const;
      for (const observe of observers) observe({ type: 'coordination', state } as unknown as JobEvent);
      const names = served(await get(ports.metrics!, '/metrics'));
      const ours = names.filter((n) => !isDefault(n));
      expect(ours.length).toBeGreaterThan(15);
      for (const name of ours) expect(doc, `${name} is not in docs/metrics.md`).toContain(`\`${name}`);
      const asked = [...new Set([...dashboard.matchAll(/rpr_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')))];
      for (const name of asked) expect(names, `the dashboard asks for ${name}`).toContain(name);
      const rules = new Set([...alerts.matchAll(/\brpr_[a-z0-9_]+/g)].map((m) => m[0]));
      expect(rules.size).toBeGreaterThanOrEqual(6);
      for (const name of rules) expect(names, `docs/alerts.yml asks for ${name}`).toContain(name);
    } finally {
      await close();
    }
  });
});
