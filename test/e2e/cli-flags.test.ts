/**
 * Where a flag may stand (issue 15): rpr's own options and a subcommand's, before or after the
 * subcommand word, and the error line when one stands where it means nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, run, tempDir } from './core-helpers.js';
import { errLines } from './plugins-helpers.js';

afterEach(cleanup);

describe('flags before the subcommand', () => {
  it('rpr -v count ... runs the job verbosely (it is --verbose there), not the version', async () => {
    const r = await run(['-v', 'count', '-t', '2', '--', 'echo', 'ran']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('ran\nran\n');
    expect(r.stderr).toMatch(/^rpr: run 2 ok \(exit 0\)/m);
    expect(r.stdout).not.toMatch(/rpr \d/);
  });

  it('rpr --verbose count ... works as rpr count --verbose ...', async () => {
    const r = await run(['--verbose', '--times', '1', 'count', '--', 'echo', 'ran']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('ran\n');
    expect(r.stderr).toMatch(/^rpr: job ended \(times\), exit 0$/m);
  });

  it('--config FILE before the subcommand is not mistaken for the subcommand', async () => {
    const r = await run(['--config', '/nonexistent/rpr.toml', '-q', 'count', '-t', '1', '--', 'echo', 'x']);
    expect(r.code).toBe(2);
    expect(errLines(r.stderr)).toEqual([expect.stringMatching(/^rpr: .*\/nonexistent\/rpr\.toml/)]);
  });

  it("rpr --help count prints count's help", async () => {
    const r = await run(['--help', 'count']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: rpr count/);
  });

  it('a plugin subcommand takes them too (rpr -q plugin fibonacci ...)', async () => {
    const r = await run(['-q', '-t', '2', 'plugin', 'fibonacci', '--initial', '10ms', '--', 'echo', 'hidden']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('a flag where it means nothing says where it goes', () => {
  it('--verbose with no subcommand', async () => {
    const r = await run(['--verbose']);
    expect(r.code).toBe(2);
    expect(errLines(r.stderr)).toEqual(["rpr: --verbose is an option of a job's subcommand (hint: put it after the subcommand, e.g. rpr count --verbose ...)"]);
  });

  it('--version after a subcommand', async () => {
    const r = await run(['count', '--version', '--', 'true']);
    expect(r.code).toBe(2);
    expect(errLines(r.stderr)).toEqual(['rpr: --version is an option of rpr itself, not of count (hint: put it first: rpr --version)']);
  });

  it('-v before a subcommand that has no --verbose', async () => {
    const r = await run(['-v', 'plugins', 'list']);
    expect(r.code).toBe(2);
    expect(errLines(r.stderr)).toEqual(["rpr: unknown option -v for plugins (hint: -v is --verbose after a job's subcommand, --version on its own: rpr -v)"]);
  });

  it('rpr -v alone is still the version', async () => {
    const r = await run(['-v']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^rpr \d+\.\d+\.\d+/);
  });
});

describe('groups named without a subcommand, a mistyped plugins, a disabled plugin', () => {
  it.each([['config'], ['plugins']])('bare rpr %s prints its usage and exits 2, as bare rpr does', async (group) => {
    const r = await run([group]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^Usage: rpr ${group} \\[options\\] \\[command\\]`));
    expect(r.stdout).toMatch(/^ {2}check|^ {2}list/m);
    const bare = await run([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toMatch(/^Usage: rpr /);
  });

  it('rpr plugin --help explains the singular form and points at rpr plugins, exit 0', async () => {
    const r = await run(['plugin', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: rpr plugin <name>/);
    expect(r.stdout).toContain('rpr plugins --help');
  });

  it('rpr plugin alone, or rpr plugin list, asks whether rpr plugins was meant', async () => {
    const bare = await run(['plugin']);
    expect(bare.code).toBe(2);
    expect(errLines(bare.stderr)).toEqual([expect.stringMatching(/^rpr: plugin: name the scheduler plugin to run \(hint: did you mean rpr plugins /)]);
    const list = await run(['plugin', 'list']);
    expect(list.code).toBe(2);
    expect(errLines(list.stderr)).toEqual(['rpr: no scheduler plugin "list" (hint: did you mean rpr plugins list?)']);
  });

  it("a disabled plugin's subcommand says it is disabled and how to enable it, in every spelling", async () => {
    const dir = tempDir();
    const env = { RPR_PLUGIN_DIR: dir };
    expect((await run(['plugins', 'disable', 'fibonacci'], { env })).code).toBe(0);
    for (const args of [['fibonacci'], ['fib'], ['plugin', 'fibonacci']]) {
      const r = await run([...args, '--initial', '10ms', '--', 'echo', 'never'], { env });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(errLines(r.stderr)).toEqual(['rpr: plugin "fibonacci" is disabled (hint: rpr plugins enable fibonacci)']);
    }
    expect((await run(['plugins', 'enable', 'fibonacci'], { env })).code).toBe(0);
    const back = await run(['fibonacci', '--initial', '10ms', '--', 'echo', 'again'], { env });
    expect(back.stdout).toBe('again\n');
  });
});
