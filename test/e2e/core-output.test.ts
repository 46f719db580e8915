/**
 * What reaches the user's terminal or pipe: the command's output, lossless and
 * with streams kept apart, and each output mode (--quiet, --verbose,
 * --stats-only, --prefix, --summary, --json). Also `rpr ... | head -1`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, lines, RPR, run, STACK_LINE, tempDir } from './core-helpers.js';

afterEach(cleanup);

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('lossless output', () => {
  it('300 runs of echo x give exactly 300 lines', async () => {
    const r = await run(['count', '--times', '300', '--', 'echo', 'x']);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out).toHaveLength(300);
    expect(out.every((l) => l === 'x')).toBe(true);
  });

  it('300 runs with --prefix (output copied through rpr) give exactly 300 prefixed lines', async () => {
    const r = await run(['count', '--times', '300', '--prefix', '[{run}] ', '--', 'echo', 'x']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(Array.from({ length: 300 }, (_, i) => `[${i + 1}] x`));
  });

  it('no line lost or reordered within a stream: 3 x seq 1 20000', async () => {
    const r = await run(['count', '--times', '3', '--', 'seq', '1', '20000']);
    expect(r.code).toBe(0);
    const one = Array.from({ length: 20000 }, (_, i) => String(i + 1));
    expect(lines(r.stdout)).toEqual([...one, ...one, ...one]);
  });

  // ~5 MB of random bytes per run, not valid UTF-8: must come through byte for byte.
  const bigFile = (): { file: string; data: Buffer } => {
    const dir = tempDir();
    const file = join(dir, 'blob.bin');
    const data = randomBytes(5 * 1024 * 1024 + 17);
    writeFileSync(file, data);
    return { file, data };
  };

  it('a child writing ~5 MB per run: stdout is byte-exact (passthrough)', async () => {
    const { file, data } = bigFile();
    const r = await run(['count', '--times', '2', '--', 'cat', file]);
    expect(r.code).toBe(0);
    expect(r.stdoutBytes.length).toBe(data.length * 2);
    expect(sha(r.stdoutBytes)).toBe(sha(Buffer.concat([data, data])));
  });

  it('a child writing ~5 MB per run: stdout is byte-exact when rpr reads it for a pattern', async () => {
    const { file, data } = bigFile();
    // --until-match makes rpr pipe and inspect the output (capped), while still passing all of it on.
    const r = await run(['count', '--times', '2', '--until-match', 'rpr-will-not-match-this-\\d{40}', '--', 'cat', file]);
    expect(r.code).toBe(0);
    expect(r.stdoutBytes.length).toBe(data.length * 2);
    expect(sha(r.stdoutBytes)).toBe(sha(Buffer.concat([data, data])));
  });

  it('5 MB of lines with --prefix: every line prefixed, none lost', async () => {
    const dir = tempDir();
    const file = join(dir, 'lines.txt');
    const text = `${Array.from({ length: 100_000 }, (_, i) => `line ${i} ${'y'.repeat(40)}`).join('\n')}\n`;
    writeFileSync(file, text);
    const r = await run(['count', '--times', '1', '--prefix', '> ', '--', 'cat', file]);
    expect(r.code).toBe(0);
    const expected = `${text
      .split('\n')
      .slice(0, -1)
      .map((l) => `> ${l}`)
      .join('\n')}\n`;
    expect(r.stdout.length).toBe(expected.length);
    expect(r.stdout === expected).toBe(true);
  });
});

describe('stdout and stderr stay separate', () => {
  it('passthrough: the command stdout on stdout, its stderr on stderr', async () => {
    const r = await run(['count', '--times', '2', '--', 'sh', '-c', 'echo out; echo err >&2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('out\nout\n');
    expect(r.stderr).toBe('err\nerr\n');
  });

  it('with --prefix the streams stay separate too', async () => {
    const r = await run(['count', '--times', '2', '--prefix', '[{run} {stream}] ', '--', 'sh', '-c', 'echo out; echo err >&2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('[1 stdout] out\n[2 stdout] out\n');
    expect(r.stderr).toBe('[1 stderr] err\n[2 stderr] err\n');
  });

  it('with a pattern (output inspected) the streams stay separate too', async () => {
    const r = await run(['count', '--times', '2', '--failure-pattern', 'nope', '--', 'sh', '-c', 'echo out; echo err >&2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('out\nout\n');
    expect(r.stderr).toBe('err\nerr\n');
  });
});

describe('output modes', () => {
  it('default: only the command output, nothing from rpr', async () => {
    const r = await run(['interval', '-e', '50ms', '-t', '3', '--', 'echo', 'hello']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hello\nhello\nhello\n');
    expect(r.stderr).toBe('');
  });

  it('--quiet hides the command output but still runs it', async () => {
    const dir = tempDir();
    const log = join(dir, 'log');
    const r = await run(['count', '-t', '3', '--quiet', '--shell', '--', `echo out; echo err >&2; echo $RPR_RUN >> ${log}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    expect(readFileSync(log, 'utf8')).toBe('1\n2\n3\n');
  });

  it('-q is --quiet and keeps the exit status', async () => {
    const r = await run(['count', '-t', '2', '-q', '--', 'sh', '-c', 'echo out; exit 3']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });

  it('--verbose: rpr lines on stderr with run number, exit code, duration and next due time; stdout untouched', async () => {
    const r = await run(['interval', '-e', '100ms', '-t', '3', '--verbose', '--', 'sh', '-c', 'echo out; exit $((RPR_RUN - 1))']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('out\nout\nout\n');
    const err = lines(r.stderr);
    expect(err.length).toBeGreaterThanOrEqual(3);
    expect(err.every((l) => l.startsWith('rpr'))).toBe(true);
    for (const [n, code] of [
      [1, 0],
      [2, 1],
      [3, 2],
    ]) {
      const line = err.find((l) => new RegExp(`\\brun ${n}\\b.*\\b(exit|exit code)\\b\\D*${code}\\b`).test(l));
      expect(line, `a line for run ${n} with exit ${code}`).toBeDefined();
      expect(line).toMatch(/\d+(\.\d+)?(ms|s)\b/);
    }
    expect(r.stderr).toMatch(/next[^\n]*\b2\b[^\n]*\d{2}:\d{2}:\d{2}/);
  });

  it('-v after the subcommand is --verbose', async () => {
    const r = await run(['count', '-t', '1', '-v', '--', 'true']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/run 1/);
  });

  it('--stats-only: a summary and nothing else', async () => {
    const r = await run(['count', '-t', '4', '--stats-only', '--', 'sh', '-c', 'echo out; echo err >&2']);
    expect(r.code).toBe(0);
    const all = r.stdout + r.stderr;
    expect(all).not.toContain('out\n');
    expect(all).not.toContain('err\n');
    expect(all).toMatch(/runs\D*4/);
    expect(all).toMatch(/100(\.0)?%/);
  });

  it("--prefix '[{run}] ' on each line, several lines per run", async () => {
    const r = await run(['count', '-t', '2', '--prefix', '[{run}] ', '--', 'printf', 'a\\nb\\n']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('[1] a\n[1] b\n[2] a\n[2] b\n');
  });

  it('--prefix {time} is the local wall time', async () => {
    const r = await run(['count', '-t', '1', '--prefix', '{time}|', '--', 'echo', 'x']);
    expect(r.code).toBe(0);
    const m = /^(\d{2}):(\d{2}):(\d{2})\|x\n$/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const now = new Date();
    const secs = (h: number, mi: number, s: number): number => (h * 60 + mi) * 60 + s;
    const shown = secs(Number(m![1]), Number(m![2]), Number(m![3]));
    const actual = secs(now.getHours(), now.getMinutes(), now.getSeconds());
    expect((actual - shown + 86400) % 86400).toBeLessThanOrEqual(5);
  });

  it('--summary on stderr: runs, ok, failed, skipped, success rate, min/median/p95/max, sparkline', async () => {
    const r = await run(['count', '-t', '4', '--summary', '--', 'sh', '-c', 'echo out; sleep 0.$((RPR_RUN / 4 * 7)); exit $((RPR_RUN % 2))']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('out\nout\nout\nout\n');
    const s = r.stderr;
    expect(s).toMatch(/runs\D{0,10}4\b/);
    expect(s).toMatch(/ok\D{0,10}2\b/);
    expect(s).toMatch(/failed\D{0,10}2\b/);
    expect(s).toMatch(/skipped\D{0,10}0\b/);
    expect(s).toMatch(/\b50(\.0)?%/);
    for (const q of ['min', 'median', 'p95', 'max']) expect(s).toMatch(new RegExp(`${q}\\s+\\d+(\\.\\d+)?(ms|s)`));
    const spark = /recent +([▁▂▃▄▅▆▇█]+)\n +([✓✗⧗]+)\n/.exec(s);
    expect(spark, 'a sparkline and a strip of results').not.toBeNull();
    expect([...spark![1]!]).toHaveLength(4);
    // Runs 1-3 take a few ms, run 4 sleeps 0.7 s: the last bar is the highest, the others low.
    expect([...spark![1]!].at(-1)).toBe('█');
    expect([...spark![1]!].slice(0, 3).every((bar) => '▁▂▃'.includes(bar))).toBe(true);
    expect(spark![2]).toBe('✗✓✗✓');
    // The spread of durations: rows of bars whose counts add up to the runs; the slow run alone at the top.
    const rows = [...s.matchAll(/≤ \S+ │█*(?: (\d+))?$/gm)].map((m) => Number(m[1] ?? 0));
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.reduce((a, b) => a + b, 0)).toBe(4);
    expect(rows.at(-1)).toBe(1);
    // Not a terminal: no colour.
    expect(s).not.toContain('\x1b[');
  });

  it('--summary in colour where asked for (FORCE_COLOR), never with NO_COLOR or TERM=dumb', async () => {
    const job = ['count', '-t', '2', '--summary', '--', 'sh', '-c', 'exit $((RPR_RUN % 2))'];
    const forced = await run(job, { env: { FORCE_COLOR: '1' } });
    expect(forced.stderr).toContain('\x1b[31mfailed 1\x1b[39m');
    expect(forced.stderr).toContain('\x1b[32m✓\x1b[39m');
    for (const env of [{ FORCE_COLOR: '1', NO_COLOR: '1' }, { FORCE_COLOR: '0' }, { TERM: 'dumb' }]) {
      expect((await run(job, { env })).stderr).not.toContain('\x1b[');
    }
  });

  it('--json: one parseable object per run instead of the command output', async () => {
    const r = await run(['interval', '-e', '100ms', '-t', '3', '--json', '--', 'sh', '-c', 'echo noise; exit $((RPR_RUN == 2))']);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('noise');
    const objs = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs).toHaveLength(3);
    objs.forEach((o, i) => {
      expect(o.run ?? o.number).toBe(i + 1);
      for (const key of ['due', 'start']) {
        expect(typeof o[key]).toBe('string');
        expect(Number.isNaN(Date.parse(o[key] as string))).toBe(false);
      }
      expect(Date.parse(o.start as string)).toBeGreaterThanOrEqual(Date.parse(o.due as string) - 2);
      expect(typeof o.duration_ms).toBe('number');
      expect(o.duration_ms as number).toBeGreaterThan(0);
      expect(o.exit_code).toBe(i === 1 ? 1 : 0);
      expect(o.success).toBe(i !== 1);
    });
    // Due times are on the 100 ms grid.
    const due = objs.map((o) => Date.parse(o.due as string));
    for (const d of due) {
      const slots = Math.round((d - due[0]!) / 100);
      expect(Math.abs(d - due[0]! - slots * 100)).toBeLessThanOrEqual(2);
    }
    expect(due[2]! - due[0]!).toBeGreaterThanOrEqual(195);
  });
});

/** Runs `node rpr ARGS | head -1` (or another reader) in bash; returns its output, rpr's status and stderr. */
function pipeToHead(args: string[], reader = 'head -1'): Promise<{ out: string; rc: number; err: string; ms: number }> {
  const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const script = `"${process.execPath}" "${RPR}" ${quoted} 2>"$ERRF" | ${reader}; echo "rc=\${PIPESTATUS[0]}" >&2`;
  const dir = tempDir();
  const errFile = join(dir, 'err');
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { env: { ...process.env, ERRF: errFile, RPR_DEBUG: undefined }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let status = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (status += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', () => {
      clearTimeout(killer);
      const rc = Number(/rc=(\d+)/.exec(status)?.[1] ?? -1);
      resolve({ out, rc, err: readFileSync(errFile, 'utf8'), ms: performance.now() - started });
    });
  });
}

describe('help and listings into a pipe nobody reads (rpr --help | true)', () => {
  for (const args of [['--help'], ['config', 'show', '--help'], ['examples'], ['plugins', 'list']]) {
    it(`rpr ${args.join(' ')}: exit 0, no EPIPE trace`, async () => {
      // `true` exits before rpr has started: every write rpr makes meets a closed pipe.
      const r = await pipeToHead(args, 'true');
      expect(r.err).not.toMatch(/EPIPE/);
      expect(r.err).not.toMatch(STACK_LINE);
      expect(r.rc).toBe(0);
    });
  }
});

describe.skipIf(!existsSync('/dev/full'))('standard output that cannot be written (> /dev/full)', () => {
  for (const args of [['examples'], ['--help'], ['count', '-t', '3', '--json', '--', 'true']]) {
    it(`rpr ${args.join(' ')}: one line saying so, exit 1, no trace`, () => {
      const r = spawnSync('bash', ['-c', `"${process.execPath}" "${RPR}" ${args.map((a) => `'${a}'`).join(' ')} > /dev/full`], {
        encoding: 'utf8',
        env: { ...process.env, RPR_DEBUG: undefined },
        timeout: 15_000,
      });
      expect(r.status).toBe(1);
      expect(lines(r.stderr), r.stderr).toEqual([expect.stringMatching(/^rpr: cannot write to standard output: ENOSPC.*\(hint: /)]);
    });
  }
});

describe('a closed pipe (rpr ... | head -1)', () => {
  for (const [title, args] of [
    ['passthrough', ['interval', '-e', '20ms', '--', 'echo', 'x']],
    ['--prefix (rpr writes the output)', ['interval', '-e', '20ms', '--prefix', '> ', '--', 'echo', 'x']],
    ['--json (rpr writes its own lines)', ['interval', '-e', '20ms', '--json', '--', 'true']],
    ['a command that floods its stdout', ['count', '-t', '3', '--', 'yes']],
  ] as const) {
    it(`${title}: rpr stops on its own, no EPIPE trace`, async () => {
      const r = await pipeToHead([...args]);
      expect(lines(r.out)).toHaveLength(1);
      // rpr ended by itself (not killed by the 15 s guard) and quickly.
      expect(r.ms).toBeLessThan(5000);
      expect(r.err).not.toMatch(/EPIPE/);
      expect(r.err).not.toMatch(STACK_LINE);
      expect(r.err).not.toMatch(/internal error/);
      // 0, or 141 (128 + SIGPIPE) by the shell's convention; never a crash status.
      expect([0, 141]).toContain(r.rc);
    });
  }
});
