/**
 * Shell completion (issue 15): `rpr completion bash|zsh|fish` prints a script that asks the hidden
 * `rpr __complete WORDS...` for candidates. The bash script is sourced in a real bash, its function
 * called as bash would (COMP_WORDS, COMP_CWORD), and COMPREPLY read back.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RPR } from '../helpers/cli.js';
import { configFile } from './plugins-helpers.js';

/** A PATH on which `rpr` is the built CLI, as after npm install -g (npm makes bin.js executable; the build does not). */
const binDir = mkdtempSync(join(tmpdir(), 'rpr-completion-'));
writeFileSync(join(binDir, 'rpr'), `#!/bin/sh\nexec '${process.execPath}' '${RPR}' "$@"\n`, { mode: 0o755 });
const env = { ...process.env, PATH: `${binDir}:${process.env.PATH}`, RPR_CONFIG: '', XDG_CONFIG_HOME: '/nonexistent' };

/** COMPREPLY for the command line `words` (the last one being typed), from the sourced bash script. */
function bashComplete(words: string[], extraEnv: Record<string, string> = {}): string[] {
  const quoted = words.map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(' ');
  const script = `source <(rpr completion bash) && COMP_WORDS=(${quoted}) && COMP_CWORD=${words.length - 1} && _rpr && printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...env, ...extraEnv }, timeout: 20_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.split('\n').filter(Boolean);
}

describe('bash completion', () => {
  it('completes subcommands, plugin schedulers included', () => {
    expect(bashComplete(['rpr', 'co'])).toEqual(['count', 'config', 'completion']);
    expect(bashComplete(['rpr', 'fi'])).toEqual(['fibonacci']);
    expect(bashComplete(['rpr', ''])).toEqual(expect.arrayContaining(['interval', 'cron', 'run', 'plugins', 'exponential', 'rate-limit']));
  });

  it("completes a subcommand's flags, a plugin subcommand's own flags, and a flag's choices", () => {
    expect(bashComplete(['rpr', 'count', '--ev'])).toEqual(['--every']);
    expect(bashComplete(['rpr', 'fibonacci', '--ini'])).toEqual(['--initial']);
    expect(bashComplete(['rpr', 'interval', '--on-overlap', ''])).toEqual(['skip', 'queue', 'kill', 'allow']);
    // After a flag's value, and with a flag before the subcommand.
    expect(bashComplete(['rpr', 'count', '--every', '1s', '--tim'])).toEqual(['--times', '--timeout']);
    expect(bashComplete(['rpr', '-v', 'count', '--unt'])).toEqual(['--until-success', '--until-failure', '--until-match', '--until-changes', '--until-time']);
  });

  it('completes installed plugin names where a plugin is named', () => {
    expect(bashComplete(['rpr', 'plugins', 'info', 'webh'])).toEqual(['webhook']);
    expect(bashComplete(['rpr', 'count', '--executor', ''])).toEqual(expect.arrayContaining(['ssh', 'docker']));
    expect(bashComplete(['rpr', 'count', '--output', 'webhook,sl'])).toEqual(['webhook,slack']);
    expect(bashComplete(['rpr', 'plugins', ''])).toEqual(expect.arrayContaining(['list', 'info', 'install', 'enable', 'disable', 'sign']));
  });

  it("completes the config file's job names after rpr run", () => {
    const file = configFile('[jobs.health]\nschedule = "count"\ncommand = ["true"]\n\n[jobs.backup]\nschedule = "count"\ncommand = ["true"]\n');
    expect(bashComplete(['rpr', '--config', file, 'run', ''])).toEqual(['health', 'backup']);
    expect(bashComplete(['rpr', 'run', 'ba'], { RPR_CONFIG: file })).toEqual(['backup']);
  });

  it('offers nothing of its own after -- or for --config (bash completes file names there)', () => {
    expect(bashComplete(['rpr', 'count', '--', 'ec'])).toEqual([]);
    expect(bashComplete(['rpr', '--config', ''])).toEqual([]);
  });

  it('completion needs a known shell', () => {
    const r = spawnSync('rpr', ['completion', 'tcsh'], { encoding: 'utf8', env });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^rpr: .*tcsh.*bash, zsh, fish/);
  });
});

for (const shell of ['zsh', 'fish'] as const) {
  const present = spawnSync(shell, ['--version']).status === 0;
  if (!present) console.warn(`SKIP ${shell} completion syntax check: ${shell} is not installed`);
  describe.skipIf(!present)(`${shell} completion`, () => {
    it('is a script the shell parses', () => {
      const script = spawnSync('rpr', ['completion', shell], { encoding: 'utf8', env }).stdout;
      expect(script).toContain('__complete');
      const r = spawnSync(shell, ['-n'], { input: script, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  });
}
