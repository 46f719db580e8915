import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rpr } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function config(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-narrow-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'rpr.toml'), text);
  return join(dir, 'rpr.toml');
}

describe('[plugins.NAME.narrow]: the user takes away what a manifest asks for', () => {
  it('slack with its network narrowed to nothing is denied before any connection, and the job goes on', async () => {
    const file = config('[plugins.slack]\nwebhook_url = "https://hooks.slack.com/services/T/B/X"\non = "always"\n[plugins.slack.narrow]\nnetwork = []\n');
    const r = await rpr(['--config', file, 'count', '--times', '2', '--output', 'slack', '--', 'true']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/plugin "slack" network: network access to hooks\.slack\.com:443 denied/);
  });

  it('a narrow table with an unknown permission is a config error naming file, line and key', async () => {
    const file = config('[plugins.slack]\nwebhook_url = "x"\n[plugins.slack.narrow]\nnetwerk = []\n');
    const r = await rpr(['--config', file, 'count', '--times', '1', '--output', 'slack', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rpr\.toml:4: plugins\.slack\.narrow\.netwerk: unknown permission/);
  });
});
