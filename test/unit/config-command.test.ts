import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { registerConfigCommands } from '../../src/cli/config-command.js';
import { RprError } from '../../src/errors/index.js';

const root = mkdtempSync(join(tmpdir(), 'rpr-config-cmd-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const home = join(root, 'home'); // no ~/.config/rpr/config.toml in it
mkdirSync(home);

let n = 0;
function file(...lines: string[]): string {
  const path = join(root, `c${n++}.toml`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** Runs `rpr ARGS` with a program shaped like the real one (global --config, positional options). */
async function rpr(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('rpr').option('--config <file>').enablePositionalOptions().exitOverride();
  registerConfigCommands(program, { out: (l) => out.push(l), err: (l) => err.push(l), env: { HOME: home, ...env }, now: () => 0 });
  let error: RprError | undefined;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    if (!(e instanceof RprError)) throw e;
    error = e;
  }
  return { out, err, error };
}

describe('rpr config check', () => {
  it('prints FILE: ok for a valid file', async () => {
    const path = file('[defaults]', 'timeout = "1s"');
    expect(await rpr(['config', 'check', path])).toEqual({ out: [`${path}: ok`], err: [], error: undefined });
  });

  it('lists every problem, one per line, then fails with E_CONFIG (exit 2)', async () => {
    const path = file('[defaults]', 'nope = 1', 'timeout = "x"', '[jobs.a]', 'schedule = "count"');
    const { out, err, error } = await rpr(['config', 'check', path]);
    expect(out).toEqual([]);
    expect(err).toHaveLength(3);
    expect(err[0]).toMatch(new RegExp(`^rpr: ${path}:2: defaults\\.nope: unknown key \\(hint: `));
    expect(err[1]).toMatch(new RegExp(`^rpr: ${path}:3: defaults\\.timeout: "x" is not a duration`));
    expect(err[2]).toMatch(new RegExp(`^rpr: ${path}:4: jobs\\.a: missing command`));
    expect(error?.code).toBe('E_CONFIG');
    expect(error?.message).toBe(`3 problems in ${path}`);
  });

  it('reports invalid TOML as one problem with line and column', async () => {
    const path = file('[defaults', 'x = 1');
    const { err, error } = await rpr(['config', 'check', path]);
    expect(err).toEqual([expect.stringMatching(new RegExp(`^rpr: ${path}:1:\\d+: invalid TOML: `))]);
    expect(error?.message).toBe(`1 problem in ${path}`);
  });

  it('fails plainly for a missing file', async () => {
    const missing = join(root, 'missing.toml');
    const { err, error } = await rpr(['config', 'check', missing]);
    expect(err).toEqual([]);
    expect(error?.message).toBe(`${missing}: no such file`);
  });

  it('checks the --config file, given before or after the subcommand, or $RPR_CONFIG', async () => {
    const path = file('[defaults]', 'quiet = true');
    expect((await rpr(['--config', path, 'config', 'check'])).out).toEqual([`${path}: ok`]);
    expect((await rpr(['config', 'check', '--config', path])).out).toEqual([`${path}: ok`]);
    expect((await rpr(['config', 'check'], { RPR_CONFIG: path })).out).toEqual([`${path}: ok`]);
  });

  it('says there is nothing to check when there is no file', async () => {
    expect((await rpr(['config', 'check'])).out).toEqual([`no config file at ${join(home, '.config', 'rpr', 'config.toml')}: nothing to check`]);
  });
});

describe('rpr config show', () => {
  const path = file(
    '[defaults]',
    'timeout = "90s"',
    'on_overlap = "kill"',
    '',
    '[observability]',
    'metrics_port = 9100',
    '',
    '[jobs.web]',
    'schedule = "interval"',
    'every = "1m"',
    'command = ["true"]',
  );

  it('prints every setting with where it came from: env, file:line, default, or not set', async () => {
    const { out, error } = await rpr(['--config', path, 'config', 'show'], { RPR_ON_OVERLAP: 'queue', RPR_JITTER: '2s' });
    expect(error).toBeUndefined();
    const line = (key: string) => out.find((l) => l.startsWith(`${key} =`) || l.startsWith(`# ${key}:`))?.replace(/ +#/, ' #');
    expect(out[0]).toBe(`# config file: ${path}`);
    expect(out).toContain('[defaults]');
    expect(out).toContain('[observability]');
    expect(line('timeout')).toBe(`timeout = "1m30s" # file ${path}:2`);
    expect(line('on_overlap')).toBe('on_overlap = "queue" # env RPR_ON_OVERLAP');
    expect(line('jitter')).toBe('jitter = "2s" # env RPR_JITTER');
    expect(line('kill_after')).toBe('kill_after = "5s" # default');
    expect(line('progress')).toBe('progress = true # default');
    expect(line('max_parallel')).toBe('max_parallel = 4 # default');
    expect(line('metrics_port')).toBe(`metrics_port = 9100 # file ${path}:6`);
    expect(line('health_addr')).toBe('health_addr = "127.0.0.1" # default');
    expect(line('prefix')).toBe('# prefix: not set');
    expect(out.at(-1)).toBe('# jobs (rpr run NAME): web (interval, line 8)');
  });

  it('works with no file at all, and takes --config after the subcommand', async () => {
    expect((await rpr(['config', 'show'])).out[0]).toMatch(/^# no config file \(looked for .*config\.toml\)$/);
    expect((await rpr(['config', 'show', '--config', path])).out[0]).toBe(`# config file: ${path}`);
  });

  it('fails on the first problem of a bad file, like a run would', async () => {
    const bad = file('[defaults]', 'timeout = "x"');
    const { error } = await rpr(['config', 'show', '--config', bad]);
    expect(error?.code).toBe('E_CONFIG');
    expect(error?.message).toBe(`${bad}:2: defaults.timeout: "x" is not a duration`);
  });

  it('fails on a bad environment value, naming the variable', async () => {
    const { error } = await rpr(['config', 'show'], { RPR_KILL_AFTER: 'later' });
    expect(error?.message).toBe('RPR_KILL_AFTER: "later" is not a duration');
  });
});
