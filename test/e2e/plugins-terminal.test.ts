import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { RPR, rpr } from '../helpers/cli.js';

/**
 * A scheduler plugin job leaves the command's output alone, as a core job does: the command writes
 * to rpr's own stdout (a terminal stays a terminal), unless the scheduler declared reads_output.
 */
const hasScript = spawnSync('script', ['--version']).status === 0;
const hasPython = spawnSync('python3', ['--version']).status === 0;
if (!hasPython) console.warn('SKIP runs of a scheduler plugin job start through the launcher: python3 is missing (runs then start through execa)');
if (!hasScript) console.warn('SKIP a scheduler plugin leaves the terminal to the command: util-linux `script` (for a pseudo-terminal) is missing');

const ENV = { RPR_CONFIG: '', XDG_CONFIG_HOME: '/nonexistent' };

describe("a scheduler plugin job and the command's output", () => {
  it.skipIf(!hasScript)('the command sees the terminal rpr was given (fibonacci, as with count)', () => {
    const probe = ['sh', '-c', 'test -t 1 && echo STDOUT-IS-TTY || echo STDOUT-IS-PIPE'];
    for (const args of [
      ['fibonacci', '--initial', '10ms', '--attempts', '1'],
      ['count', '--times', '1'],
    ]) {
      const command = [process.execPath, RPR, ...args, '--', ...probe].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
      const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...ENV } });
      expect(r.stdout, args[0]).toContain('STDOUT-IS-TTY');
    }
  });

  it.skipIf(!hasPython)("its runs start the quick way (the launcher), not through execa's pipes", async () => {
    const r = await rpr(['fibonacci', '--initial', '10ms', '--attempts', '2', '--verbose', '--', 'false'], { env: ENV });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('rpr: runs are started by the launcher');
    expect(r.stderr).not.toMatch(/rpr reads the output of each run/);
  });
});
