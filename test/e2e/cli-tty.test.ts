/**
 * rpr's own lines and the live status line on a real pseudo-terminal (util-linux `script`):
 * --verbose lines never land on the end of the status line, and TERM=dumb gets no escape codes.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { RPR } from '../helpers/cli.js';

/** What the terminal received when rpr ran under `script` with this TERM. */
function onTerminal(args: string[], term = 'xterm'): string {
  const command = [process.execPath, RPR, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const env = { ...process.env, TERM: term, RPR_CONFIG: '', XDG_CONFIG_HOME: '/nonexistent', NO_COLOR: undefined, FORCE_COLOR: undefined };
  return spawnSync('script', ['-qefc', command, '/dev/null'], { encoding: 'utf8', timeout: 20_000, env }).stdout;
}

/** The lines a terminal shows: each erase (\r ESC[K) wipes what came before it on the line. */
const shown = (screen: string): string[] => screen.split('\n').map((line) => line.split('\x1b[K').at(-1)!.replace(/\r/g, ''));

const hasScript = spawnSync('script', ['--version']).status === 0;
if (!hasScript) console.warn('SKIP terminal tests: util-linux `script` (for a pseudo-terminal) is missing');

describe.skipIf(!hasScript)('on a terminal', () => {
  it('--verbose lines and the status line never share a line', () => {
    const screen = onTerminal(['interval', '--every', '700ms', '--times', '3', '-v', '--', 'echo', 'tick']);
    // The status line was drawn (and so could have collided).
    expect(screen).toMatch(/rpr: run 2 in \d/);
    const lines = shown(screen).filter((l) => l.trim() !== '');
    for (const line of lines) expect(line.match(/rpr: /g)?.length ?? 0, line).toBeLessThanOrEqual(1);
    expect(lines).toContainEqual(expect.stringMatching(/^rpr: run 2 started( \(\d+ms after due\))?$/));
    expect(lines.filter((l) => /^rpr: run \d started/.test(l))).toHaveLength(3);
    expect(lines.filter((l) => l === 'tick')).toHaveLength(3);
  });

  it('TERM=dumb gets no escape codes: no status line, no colour', () => {
    const screen = onTerminal(['interval', '--every', '700ms', '--times', '2', '--summary', '--', 'sh', '-c', 'exit 1'], 'dumb');
    expect(screen).toMatch(/runs/);
    expect(screen).not.toContain('\x1b');
    expect(screen).not.toMatch(/rpr: run \d in/);
  });
});
