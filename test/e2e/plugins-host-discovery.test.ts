/**
 * Finding plugins, through the CLI: bundled (plugins-dist/) then RPR_PLUGIN_DIR; an installed
 * plugin shadows the bundled one of the same name (a notice with --verbose); a broken manifest
 * is reported with its file and reason and the other plugins still work; `rpr plugins list`,
 * `--json` and `plugins info NAME` show what was found.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, readFileSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, run, STACK_LINE, tempDir } from './core-helpers.js';
import { BUNDLED, errLines, installBundled, installFixture, jsonRuns, pluginDir, withPlugins } from './plugins-helpers.js';

afterEach(cleanup);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let dir: string;
let env: Record<string, string>;

/**
 * The user's plugin directory: two fixtures, their own copy of the bundled fibonacci (its
 * description changed, and its attempts default 2 instead of 0 = no limit, so that it can be told
 * apart), a manifest that is not TOML, and a plugin whose wasm does not match its sha256.
 */
beforeEach(() => {
  dir = pluginDir('good-scheduler', 'sink');
  const fib = installBundled(dir, 'fibonacci');
  const toml = path.join(fib, 'plugin.toml');
  const mine = readFileSync(toml, 'utf8')
    .replace(/^description = .*$/m, 'description = "my own fibonacci"')
    .replace(/(\[config\.attempts\]\ntype = "integer"\ndefault = )0\n/, '$12\n');
  expect(mine).toContain('default = 2\n');
  writeFileSync(toml, mine);
  mkdirSync(path.join(dir, 'broken'));
  writeFileSync(path.join(dir, 'broken', 'plugin.toml'), 'this is [not toml\n');
  const bad = installFixture(dir, 'good-scheduler', 'badhash');
  const badToml = path.join(bad, 'plugin.toml');
  writeFileSync(
    badToml,
    readFileSync(badToml, 'utf8')
      .replace('name = "good-scheduler"', 'name = "badhash"')
      .replace(/sha256 = "[0-9a-f]+"/, `sha256 = "${'0'.repeat(64)}"`),
  );
  env = withPlugins(dir);
});

const brokenFile = (): string => path.join(dir, 'broken', 'plugin.toml');
const badhashFile = (): string => path.join(dir, 'badhash', 'plugin.toml');

describe('rpr plugins list / --json / info', () => {
  it('lists bundled and installed plugins; each broken one is reported once with its file and reason', async () => {
    const r = await run(['plugins', 'list'], { env });
    expect(r.code).toBe(0);
    const rows = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.trim().split(/\s{2,}/));
    expect(rows[0]).toEqual(['NAME', 'VERSION', 'KIND', 'SOURCE', 'ENABLED', 'PERMISSIONS']);
    const byName = new Map(rows.slice(1).map((row) => [row[0], row]));
    expect(byName.get('fibonacci')?.slice(0, 4)).toEqual(['fibonacci', '1.0.0', 'scheduler', 'user']);
    expect(byName.get('good-scheduler')).toEqual(['good-scheduler', '1.0.0', 'scheduler', 'user', 'yes', 'host time']);
    expect(byName.get('sink')?.slice(0, 4)).toEqual(['sink', '1.0.0', 'output', 'user']);
    expect(byName.get('exponential')?.slice(0, 4)).toEqual(['exponential', '1.0.0', 'scheduler', 'bundled']);
    expect(byName.get('webhook')?.slice(2, 4)).toEqual(['output', 'bundled']);
    expect(byName.has('broken')).toBe(false);
    expect(byName.has('badhash')).toBe(false);
    // fibonacci once: the installed copy replaces the bundled one
    expect(rows.filter((row) => row[0] === 'fibonacci')).toHaveLength(1);

    const err = errLines(r.stderr).sort();
    expect(err).toHaveLength(2);
    const [bad, broken] = err[0]!.includes('badhash') ? [err[0]!, err[1]!] : [err[1]!, err[0]!];
    expect(broken).toMatch(/^rpr: .*\/broken\/plugin\.toml: not valid TOML/);
    expect(broken.split(brokenFile()).length - 1, 'the file is named once').toBe(1);
    expect(bad).toMatch(/^rpr: .*\/badhash\/plugin\.toml: plugin\.wasm does not match runtime\.sha256/);
    expect(bad.split(badhashFile()).length - 1).toBe(1);
  });

  it('--json: one array, sources and permissions', async () => {
    const r = await run(['plugins', 'list', '--json'], { env });
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as {
      name: string;
      version: string;
      kind: string;
      source: string;
      description: string;
      permissions: { hostFunctions: string[]; network: string[] };
      sha256: string;
    }[];
    const names = list.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    const fib = list.find((p) => p.name === 'fibonacci')!;
    expect(fib).toMatchObject({ source: 'user', kind: 'scheduler', description: 'my own fibonacci' });
    expect(list.find((p) => p.name === 'good-scheduler')).toMatchObject({ source: 'user', kind: 'scheduler', version: '1.0.0', permissions: { hostFunctions: ['time'], network: [] } });
    expect(list.find((p) => p.name === 'slack')).toMatchObject({ source: 'bundled', kind: 'output', permissions: { network: ['hooks.slack.com'] } });
    for (const p of list) expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(names).not.toContain('broken');
  });

  it('info NAME: the installed copy says what it replaces; schema with defaults as written; permissions', async () => {
    const r = await run(['plugins', 'info', 'fibonacci'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^fibonacci 1\.0\.0 \(scheduler, user, replaces the bundled 1\.0\.0\)\nmy own fibonacci\n/);
    expect(r.stdout).toContain(`wasm:    ${path.join(dir, 'fibonacci', 'plugin.wasm')}`);
    expect(r.stdout).toMatch(/^ {2}initial \(duration, default 1s, also base-delay, initial-delay\): /m);
    expect(r.stdout).toMatch(/^ {2}memory: +16 MB, calls time out after 1000 ms$/m);
    const good = await run(['plugins', 'info', 'good-scheduler'], { env });
    expect(good.stdout).toMatch(/^ {2}delay \(duration, default 100ms\): delay after the first failure$/m);
    expect(good.stdout).toMatch(/^ {2}host functions: time$/m);
  });

  it('info of a broken plugin gives its file and reason; of an unknown one, exit 2', async () => {
    const broken = await run(['plugins', 'info', 'broken'], { env });
    expect(broken.code).toBe(2);
    expect(errLines(broken.stderr)).toHaveLength(1);
    expect(broken.stderr).toContain(`plugin "broken" cannot be loaded: ${brokenFile()}: not valid TOML`);
    const none = await run(['plugins', 'info', 'nope'], { env });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^rpr: no plugin "nope"/);
    expect(none.stderr).not.toMatch(STACK_LINE);
  });
});

describe('shadowing and broken manifests in a job', () => {
  it('the installed fibonacci is the one that runs; --verbose names both files, without --verbose nothing', async () => {
    const help = await run(['fibonacci', '--help'], { env });
    expect(help.stdout).toContain('my own fibonacci (plugin, user)');
    expect(help.stdout).toMatch(/--attempts <integer>[\s\S]*?\(default 2[,)]/);
    // The bundled fibonacci would retry until --times; the installed copy stops after 2 runs.
    const runs = await run(['fibonacci', '--initial', '10ms', '--times', '4', '--json', '--', 'false'], { env });
    expect(runs.code).toBe(1);
    expect(jsonRuns(runs.stdout)).toHaveLength(2);
    const verbose = await run(['fibonacci', '--initial', '10ms', '-a', '1', '-v', '--', 'true'], { env });
    expect(verbose.code).toBe(0);
    const notices = errLines(verbose.stderr).filter((l) => l.includes('shadows the bundled one'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toBe(`rpr: plugin "fibonacci" from ${path.join(dir, 'fibonacci', 'plugin.toml')} shadows the bundled one (${path.join(BUNDLED, 'fibonacci', 'plugin.toml')})`);
    const quiet = await run(['fibonacci', '--initial', '10ms', '-a', '1', '--', 'true'], { env });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  it('the notice is printed once even when the job also loads output plugins', async () => {
    const r = await run(['fibonacci', '--initial', '10ms', '-a', '1', '-v', '--output', 'sink', '--', 'true'], { env });
    expect(r.code).toBe(0);
    expect(errLines(r.stderr).filter((l) => l.includes('shadows the bundled one'))).toHaveLength(1);
  });

  it('other plugins still work next to broken ones; a job does not mention them', async () => {
    const r = await run(['good-scheduler', '--delay', '10ms', '--attempts', '2', '--json', '--output', 'sink', '--', 'false'], { env });
    expect(r.code).toBe(1);
    expect(jsonRuns(r.stdout)).toHaveLength(2);
    // Only the failed job's last line.
    expect(r.stderr).toBe('rpr: job ended (attempts exhausted): 2 of 2 runs failed; exit 1\n');
  });

  it('naming a broken plugin gives its file and reason (exit 2), as a subcommand, in the generic form, as an output', async () => {
    const sub = await run(['broken', '--', 'echo', 'ran'], { env });
    expect(sub.code).toBe(2);
    expect(sub.stdout).toBe('');
    expect(errLines(sub.stderr)).toEqual([expect.stringContaining(`rpr: plugin "broken" cannot be loaded: ${brokenFile()}: not valid TOML`)]);
    const generic = await run(['plugin', 'badhash', '--', 'echo', 'ran'], { env });
    expect(generic.code).toBe(2);
    expect(generic.stderr).toContain(`plugin "badhash" cannot be loaded: ${badhashFile()}: plugin.wasm does not match runtime.sha256`);
    const output = await run(['count', '--times', '1', '--output', 'broken', '--', 'echo', 'ran'], { env });
    expect(output.code).toBe(2);
    expect(output.stdout).toBe('');
    expect(output.stderr).toContain(`plugin "broken" cannot be loaded: ${brokenFile()}: not valid TOML`);
    expect(output.stderr.split(brokenFile()).length - 1).toBe(1);
  });
});

describe("the bundled plugins' index (dist/plugins/bundled-index.json, read instead of every plugin.toml)", () => {
  /** A copy of the built package (dist/, plugins-dist/, wit/, package.json; node_modules linked) whose bundled files a test may change. */
  function packageCopy(): string {
    const root = tempDir();
    for (const part of ['dist', 'plugins-dist', 'wit', 'package.json']) cpSync(path.join(ROOT, part), path.join(root, part), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
    return root;
  }
  const rprIn = (root: string, args: string[]) =>
    spawnSync(process.execPath, [path.join(root, 'dist', 'cli', 'bin.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, RPR_PLUGIN_DIR: path.join(root, 'none'), RPR_CONFIG: undefined, XDG_CONFIG_HOME: '/nonexistent' },
      timeout: 20_000,
    });

  it('a bundled wasm that is not the one the index names is refused before any run, exit 2; verify names it', () => {
    const root = packageCopy();
    const good = rprIn(root, ['fibonacci', '--times', '1', '--', 'echo', 'ran']);
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toBe('ran\n');
    // another bundled plugin's bytes where fibonacci's were
    copyFileSync(path.join(root, 'plugins-dist', 'linear', 'plugin.wasm'), path.join(root, 'plugins-dist', 'fibonacci', 'plugin.wasm'));
    const r = rprIn(root, ['fibonacci', '--times', '1', '--', 'echo', 'ran']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(errLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^rpr: plugin "fibonacci" cannot be loaded: .*plugin\.wasm does not match runtime\.sha256/);
    const verify = rprIn(root, ['plugins', 'verify']);
    expect(verify.status).toBe(1);
    expect(verify.stdout + verify.stderr).toMatch(/fibonacci \(bundled\): .*plugin\.wasm has sha256/);
  });

  it("a bundled plugin.toml edited after the build does not change what runs (the index is rpr's); verify says it differs", () => {
    const root = packageCopy();
    const toml = path.join(root, 'plugins-dist', 'fibonacci', 'plugin.toml');
    writeFileSync(
      toml,
      readFileSync(toml, 'utf8')
        .replace('[permissions]\n', '[permissions]\nnetwork = ["example.com"]\n')
        .replace(/^description = .*$/m, 'description = "edited"'),
    );
    const info = rprIn(root, ['plugins', 'info', 'fibonacci']);
    expect(info.stdout).toContain('example.com'); // the listing reads the files
    const help = rprIn(root, ['fibonacci', '--help']);
    expect(help.stdout).toContain('Retry with Fibonacci backoff');
    expect(help.stdout).not.toContain('edited');
    const r = rprIn(root, ['fibonacci', '--times', '1', '--', 'echo', 'ran']);
    expect(r.status, r.stderr).toBe(0);
    const verify = rprIn(root, ['plugins', 'verify']);
    expect(verify.status).toBe(1);
    expect(verify.stdout + verify.stderr).toMatch(/fibonacci \(bundled\): .*plugin\.toml is not what rpr's index of its bundled plugins says/);
    expect(verify.stdout + verify.stderr).not.toMatch(/linear \(bundled\): .*index/);
  });
});
