import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rpr } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rpr-pjob-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'rpr.toml');
writeFileSync(
  file,
  `[jobs.retry]
schedule = "fibonacci"
command = ["sh", "-c", "echo try; exit 3"]
initial = "50ms"
attempts = 3

[jobs.until-ok]
schedule = "exponential"
command = "echo ok"
initial = "50ms"

[jobs.bad]
schedule = "fibonacci"
command = ["true"]
initial = "nope"
`,
);

describe('rpr run NAME for a job whose schedule is a scheduler plugin', () => {
  it("passes the job's other keys to the plugin as its settings", async () => {
    const r = await rpr(['--config', file, 'run', 'retry']);
    expect(r.stdout).toBe('try\ntry\ntry\n');
    expect(r.code).toBe(3); // attempts exhausted: the last run's exit code
  });

  it('stops at the first success, with a string command run through the shell', async () => {
    const r = await rpr(['--config', file, 'run', 'until-ok']);
    expect(r.stdout).toBe('ok\n');
    expect(r.code).toBe(0);
  });

  it('a setting the plugin refuses is a config error naming the file', async () => {
    const r = await rpr(['--config', file, 'run', 'bad']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:`);
    expect(r.stderr).toMatch(/"nope" is not a duration/);
  });
});
