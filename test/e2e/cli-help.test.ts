/**
 * Help that reads, and the man page made from the same catalog (issue 15): options grouped,
 * required ones marked, the Go rpr's spellings hidden yet accepted, every alias shown, examples for
 * every plugin subcommand and every `plugins` command; man/rpr.1 renders with man -l.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/options/catalog.js';
import { cleanup, run } from './core-helpers.js';

afterEach(cleanup);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const headings = (help: string): string[] => help.split('\n').filter((l) => /^[A-Za-z][\w -]*:$/.test(l));

describe('--help', () => {
  it('groups the options: schedule, stopping, each run, output, plugins, service', async () => {
    const r = await run(['interval', '--help']);
    expect(r.code).toBe(0);
    expect(headings(r.stdout)).toEqual(['Schedule:', 'Stopping:', 'Each run:', 'Output:', 'Plugins:', 'Service:', 'Other:', 'Options:', 'Examples:']);
  });

  it('marks what a subcommand cannot run without', async () => {
    for (const [cmd, flag] of [
      ['interval', '--every'],
      ['count', '--times'],
      ['duration', '--for'],
      ['cron', '--cron'],
    ]) {
      const help = (await run([cmd!, '--help'])).stdout;
      const entry = help.slice(help.indexOf(`${flag} <`)).split(/\n {2}-/)[0]!;
      expect(entry, `${cmd} ${flag}`).toMatch(/\(required\)/);
    }
  });

  it("hides the Go rpr's spellings and still accepts them", async () => {
    const help = (await run(['count', '--help'])).stdout;
    for (const flag of ['--stream', '--output-prefix', '--enable-metrics', '--http-parse-json', '--http-parse-headers']) expect(help).not.toContain(flag);
    const r = await run(['count', '-t', '1', '-s', '-o', '[x]', '--', 'echo', 'hi']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('[x] hi\n');
  });

  it('shows every alias of a subcommand', async () => {
    const top = (await run(['--help'])).stdout;
    expect(top).toMatch(/^ {2}count\|cnt\|c \[options\]/m);
    expect(top).toMatch(/^ {2}interval\|int\|i \[options\]/m);
    expect(top).toMatch(/^ {2}rate-limit\|rl\|rate\|r \[options\]/m);
    expect((await run(['c', '--help'])).stdout).toMatch(/^Usage: rpr count\|cnt\|c /);
    // A plugin's flag aliases too.
    expect((await run(['fibonacci', '--help'])).stdout.replace(/\s+/g, ' ')).toMatch(/--initial <duration> [^-]*\(default 1s, also --base-delay, --initial-delay\)/);
  });

  it("count's example runs as printed: each run draws its own $RANDOM", async () => {
    const help = (await run(['count', '--help'])).stdout;
    const example = help.split('\n').find((l) => l.includes('RANDOM'))!;
    expect(example).toContain("sh -c 'exit $((RANDOM % 2))'");
    // What a user's shell makes of the line: the argument reaches rpr unexpanded.
    const argv = spawnSync('bash', ['-c', `printf '%s\\n' ${example.replace(/^\s*\$ rpr /, '')}`], { encoding: 'utf8' }).stdout;
    expect(argv).toContain('exit $((RANDOM % 2))');
  });

  it('every scheduler plugin subcommand has examples whose flags parse', async () => {
    const schedulers = readdirSync(`${ROOT}plugins-dist`).filter((name) => {
      const toml = readFileSync(`${ROOT}plugins-dist/${name}/plugin.toml`, 'utf8');
      return /^kind = "scheduler"$/m.test(toml) && name !== 'http-aware';
    });
    expect(schedulers.length).toBeGreaterThan(5);
    for (const name of schedulers) {
      const help = (await run([name, '--help'])).stdout;
      const examples = help.split('\n').filter((l) => l.startsWith(`  $ rpr ${name} `));
      expect(examples.length, name).toBeGreaterThan(0);
      for (const example of examples) {
        // Its flags as printed, the command replaced, stopped at once.
        const args = example
          .replace(/^ {2}\$ rpr /, '')
          .split(' -- ')[0]!
          .split(/\s+/);
        const r = await run([...args, '--for', '1ms', '--times', '1', '--', 'true'], { timeoutMs: 15_000 });
        expect(r.stderr, example).not.toMatch(/unknown option|does not apply|invalid|expected/);
      }
    }
  }, 120_000);

  it('every plugins command has an example', async () => {
    const list = (await run(['plugins', '--help'])).stdout;
    const commands = [...list.matchAll(/^ {2}([a-z]+)(?:\|[a-z]+)? /gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['list', 'info', 'install', 'update', 'remove', 'disable', 'enable', 'verify', 'new', 'keygen', 'pubkey', 'sign', 'validate']));
    for (const command of commands) {
      const help = (await run(['plugins', command, '--help'])).stdout;
      expect(help, command).toMatch(new RegExp(`Examples?:\\n(.*\\n)*.*rpr plugins ${command}`));
    }
  }, 60_000);
});

const hasMan = spawnSync('man', ['--version']).status === 0;
if (!hasMan) console.warn('SKIP man page rendering: man (man-db) is not installed');

describe.skipIf(!hasMan)('the man page', () => {
  it('is shipped (package.json man and files) and renders with man -l, with every option of the catalog', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { man: string; files: string[] };
    expect(pkg.man).toBe('./man/rpr.1');
    expect(pkg.files).toContain('man');
    const r = spawnSync('man', ['-l', `${ROOT}man/rpr.1`], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '200', MAN_KEEP_FORMATTING: '', PAGER: 'cat' } });
    expect(r.status).toBe(0);
    const page = r.stdout.replace(/.\x08/g, '');
    for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'SUBCOMMANDS', 'OPTIONS', 'EXIT STATUS', 'ENVIRONMENT', 'FILES', 'EXAMPLES']) expect(page).toMatch(new RegExp(`^${section}$`, 'm'));
    for (const def of OPTIONS.filter((d) => !d.goCompat)) expect(page, def.flags).toContain(/--[a-z-]+/.exec(def.flags)![0]);
    expect(page).toContain('--allow plugin=host:port');
    expect(page).toMatch(/^ {7}fibonacci$/m);
    expect(page).toMatch(/^ {7}count, cnt, c$/m);
  });
});
