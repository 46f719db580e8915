import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { RPR, rpr } from '../helpers/cli.js';

/** Runs rpr under `script`, which gives it a pseudo-terminal, and returns what the terminal saw. */
function onTerminal(args: string[]): string {
  const command = [process.execPath, RPR, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, RPR_CONFIG: '', XDG_CONFIG_HOME: '/nonexistent' } });
  return r.stdout;
}

const hasScript = spawnSync('script', ['--version']).status === 0;
if (!hasScript) console.warn('SKIP live status line: util-linux `script` (for a pseudo-terminal) is missing');

describe.skipIf(!hasScript)('the live status line', () => {
  it('is drawn on a terminal between runs and erased before each run', () => {
    const screen = onTerminal(['interval', '--every', '700ms', '--times', '3', '--', 'echo', 'tick']);
    expect(screen).toMatch(/rpr: run 2 in \d/);
    expect(screen).toContain('\x1b[K');
    // What the terminal shows: each erase (\r ESC[K) wipes the status line before the command writes.
    const shown = screen.split('\n').map((line) => line.split('\x1b[K').at(-1)!.replace(/\r/g, '').trim());
    expect(shown.filter((line) => line.includes('tick'))).toEqual(['tick', 'tick', 'tick']);
  });

  it('is not drawn with --no-progress or --quiet', () => {
    expect(onTerminal(['interval', '--every', '700ms', '--times', '2', '--no-progress', '--', 'true'])).not.toMatch(/rpr: run \d in/);
    expect(onTerminal(['interval', '--every', '700ms', '--times', '2', '--quiet', '--', 'true'])).not.toMatch(/rpr: run \d in/);
  });

  it('is never drawn when stderr is not a terminal', async () => {
    const r = await rpr(['interval', '--every', '700ms', '--times', '2', '--', 'true']);
    expect(r.stderr).toBe('');
  });
});
