import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it('the suite ends with one line: how many tests were skipped, and why', () => {
  const vitest = `${ROOT}node_modules/vitest/vitest.mjs`;
  const r = spawnSync(process.execPath, [vitest, 'run', '--config', 'test/skip-summary/vitest.config.ts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  const summary = r.stdout.split('\n').filter((l) => l.startsWith('skipped: '));
  expect(summary).toEqual(['skipped: 2 tests: the demo tool: it is not installed here']);
});
