// docs/alerts.yml, the Prometheus alerting rules for rpr's metrics: valid for Prometheus (promtool
// check rules), doing what they say on series written for each (promtool test rules with
// test/prometheus/alerts.test.yml), linked from docs/metrics.md (metrics-docs.test.ts holds its
// metric names to what rpr serves). The promtool cases are skipped, saying why, where Debian's
// prometheus package is missing.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

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
      expect(
        blocks.some((b) => /exp_alerts: \[\]/.test(b)),
        `${name}: a case where it does not fire`,
      ).toBe(true);
      expect(
        blocks.some((b) => /exp_labels:/.test(b)),
        `${name}: a case where it fires`,
      ).toBe(true);
    }
  });

  it('is linked from docs/metrics.md (test/unit/metrics-docs.test.ts holds its metric names to what /metrics serves)', () => {
    expect(readFileSync(`${ROOT}docs/metrics.md`, 'utf8')).toContain('](alerts.yml)');
  });
});
