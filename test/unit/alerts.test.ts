// docs/alerts.yml, the Prometheus alerting rules for rpr's metrics: valid for Prometheus (promtool
// check rules), doing what they say on series written for each (promtool test rules with
// test/prometheus/alerts.test.yml), asking only for metrics rpr really serves, linked from
// docs/metrics.md. The promtool cases are skipped, saying why, where Debian's prometheus is missing.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startObservability } from '../../src/app/observability.js';
import type { JobEvent } from '../../src/job/events.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RULES = 'docs/alerts.yml';
const TESTS = 'test/prometheus/alerts.test.yml';
const rules = readFileSync(`${ROOT}${RULES}`, 'utf8');
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const HAVE_PROMTOOL = promtool.status === 0;
if (!HAVE_PROMTOOL) console.warn('alerts: promtool cases skipped: no promtool on PATH (apt-get install prometheus)');

const alertNames = [...rules.matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]!);

describe('docs/alerts.yml', () => {
  it.skipIf(!HAVE_PROMTOOL)('passes promtool check rules', () => {
    const r = spawnSync('promtool', ['check', 'rules', RULES], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${alertNames.length} rules found`);
  });

  it.skipIf(!HAVE_PROMTOOL)('passes promtool test rules, with a case firing and one not firing for every alert', () => {
    const r = spawnSync('promtool', ['test', 'rules', TESTS], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
    const cases = readFileSync(`${ROOT}${TESTS}`, 'utf8');
    expect(alertNames).toEqual(['RprRunsFailing', 'RprJobNotRunning', 'RprCoordinationLost', 'RprPluginRebuilding', 'RprOutputEventsDropped']);
    for (const name of alertNames) {
      const blocks = cases.split(/\n\s*- eval_time: /).filter((b) => b.includes(`alertname: ${name}\n`));
      expect(blocks.some((b) => /exp_alerts: \[\]/.test(b)), `${name}: a case where it does not fire`).toBe(true);
      expect(blocks.some((b) => /exp_labels:/.test(b)), `${name}: a case where it fires`).toBe(true);
    }
  });

  it('asks only for metrics rpr serves, and docs/metrics.md links it', async () => {
    const { observers, ports, close } = await startObservability(
      {
        metricsPort: 0,
        outputStats: new Map([['webhook', { delivered: 1, failed: 0, dropped: 1 }]]),
        pluginStats: () => [{ plugin: 'webhook', stats: { calls: 3, failures: 1, rebuilds: 1 } }],
      },
      'alerts-check',
    );
    try {
      const state = { backend: 'redis', instance: 'h:1', connected: false, claimed: 0, lost: 0, unavailable: 0, local: 0, onLoss: 'skip' } as const;
      for (const observe of observers) observe({ type: 'coordination', state } as unknown as JobEvent);
      const text = await new Promise<string>((resolve, reject) =>
        http.get({ host: '127.0.0.1', port: ports.metrics!, path: '/metrics' }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        }).on('error', reject),
      );
      const served = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
      const asked = new Set([...rules.matchAll(/\brpr_[a-z0-9_]+/g)].map((m) => m[0]));
      expect(asked.size).toBeGreaterThanOrEqual(6);
      for (const name of asked) expect(served, `docs/alerts.yml asks for ${name}`).toContain(name);
    } finally {
      await close();
    }
    expect(readFileSync(`${ROOT}docs/metrics.md`, 'utf8')).toContain('](alerts.yml)');
  });
});
