/**
 * What an invocation of the built CLI reads (issue: start-up loads only what it uses). Node's own
 * module hooks list every module the process loads; the code in those files is read for the
 * packages bundled into them (esbuild and rollup keep a `// node_modules/NAME/...` line above each
 * module's code). No timing here: docs/BENCHMARKS.md measures what this costs.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { RPR, cleanup, tempDir } from './core-helpers.js';

const run = promisify(execFile);
const REGISTER = pathToFileURL(fileURLToPath(new URL('../helpers/record-loads-register.mjs', import.meta.url))).href;
const CLI_DIR = pathToFileURL(join(RPR, '..')).href;

interface Loads {
  /** The files of dist/cli/ the process loaded (bin.js and its chunks). */
  cli: string[];
  /** Packages whose code was loaded: bundled into those files, or loaded from node_modules. */
  packages: Set<string>;
  /** rpr's own modules in those files (tsc's output, as the bundle names them: `run/launcher.js`). */
  modules: Set<string>;
  stdout: string;
}

/** Runs `rpr ...args` with the module hooks, and lists what it loaded. */
async function loads(args: string[], env: Record<string, string> = {}): Promise<Loads> {
  const file = join(tempDir(), 'loads');
  const { stdout } = await run(process.execPath, ['--import', REGISTER, RPR, ...args], {
    env: { ...process.env, RPR_CONFIG: undefined, XDG_CONFIG_HOME: '/nonexistent', RPR_LOADS_FILE: file, ...env },
    timeout: 20_000,
  });
  const urls = [...new Set(readFileSync(file, 'utf8').split('\n'))].filter((url) => url.startsWith('file:'));
  const cli = urls.filter((url) => url.startsWith(`${CLI_DIR}/`)).map((url) => url.slice(CLI_DIR.length + 1));
  const packages = new Set<string>();
  for (const url of urls) {
    const external = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (external) packages.add(external[1]!);
  }
  const modules = new Set<string>();
  for (const name of cli) {
    const code = readFileSync(join(RPR, '..', name), 'utf8');
    for (const [, pkg] of code.matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)) packages.add(pkg!);
    for (const [, module] of code.matchAll(/^\/\/ dist\/(\S+\.js)$/gm)) modules.add(module!);
  }
  const builtins = new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('node:'))
      .map((line) => line.slice('node:'.length)),
  );
  return { cli, packages, modules, builtins, stdout };
}

/** Packages only some jobs use: a job that does not use them must not load them. */
const OPTIONAL = ['@extism/extism', 'ioredis', 'prom-client', 'cron-parser', 'execa', 'smol-toml'];

afterEach(cleanup);

describe('start-up loads only what the invocation uses', () => {
  it('--version: bin.js and one chunk, no package', async () => {
    const r = await loads(['--version']);
    expect(r.stdout).toMatch(/^rpr \d/);
    expect(r.cli).toHaveLength(2);
    expect([...r.packages]).toEqual([]);
  });

  it('--help of a core subcommand: one chunk more (commander), nothing a job needs', async () => {
    const r = await loads(['count', '--help']);
    expect(r.stdout).toContain('--times');
    expect(r.cli.length).toBeLessThanOrEqual(3);
    expect([...r.packages]).toEqual(['commander']);
  });

  it('a core job: eight files of dist/cli, and none of the optional packages (its runs start through the launcher)', async () => {
    const r = await loads(['count', '--times', '1', '--', 'echo', 'ran']);
    expect(r.stdout).toBe('ran\n');
    // bin.js, what it imports, the V8 flag a job sets, the launcher's start, the CLI, the job, and
    // the chunks the job shares with the plugin manifests and with the plugin host (the clock).
    expect(r.cli.length).toBeLessThanOrEqual(8);
    expect(r.modules).toContain('run/launcher.js');
    for (const pkg of OPTIONAL) expect(r.packages, pkg).not.toContain(pkg);
  });

  it('the same job with the launcher off loads execa: what this test reads is what runs', async () => {
    const r = await loads(['count', '--times', '1', '--', 'echo', 'ran'], { RPR_LAUNCHER: '0' });
    expect(r.stdout).toBe('ran\n');
    expect(r.packages).toContain('execa');
  });

  it('a scheduler plugin job: the Extism SDK and the manifest reader, no Redis, metrics, cron or execa', async () => {
    const r = await loads(['fibonacci', '--initial', '10ms', '--times', '1', '--', 'echo', 'ran']);
    expect(r.stdout).toBe('ran\n');
    expect(r.packages).toContain('@extism/extism');
    for (const pkg of ['ioredis', 'prom-client', 'cron-parser', 'execa']) expect(r.packages, pkg).not.toContain(pkg);
    // The core job's eight, plugin discovery, the plugin host and what they share with other subcommands.
    expect(r.cli.length).toBeLessThanOrEqual(12);
  });

  it("a scheduler plugin's --help: the plugin's options, and nothing of a job (no launcher, no loop, no plugin host)", async () => {
    const r = await loads(['fibonacci', '--help']);
    expect(r.stdout).toContain('--initial');
    for (const module of ['run/launcher.js', 'job/loop.js', 'plugins/host/load.js']) expect(r.modules, module).not.toContain(module);
    expect(r.modules).toContain('cli/plugin-commands.js');
    for (const pkg of ['@extism/extism', 'execa', 'ioredis', 'prom-client', 'cron-parser']) expect(r.packages, pkg).not.toContain(pkg);
  });

  it('a cron job loads cron-parser, and no plugin host', async () => {
    const r = await loads(['cron', '--cron', '* * * * * *', '--times', '1', '--', 'echo', 'ran']);
    expect(r.stdout).toBe('ran\n');
    expect(r.packages).toContain('cron-parser');
    for (const pkg of ['@extism/extism', 'ioredis', 'prom-client', 'execa']) expect(r.packages, pkg).not.toContain(pkg);
  });
});

/**
 * Node's own modules an invocation loads, through a CommonJS preload (Node's module hooks, above,
 * load fs/promises themselves). Each of these takes 1.5-4 ms to load on a 2-core machine.
 */
async function builtins(args: string[]): Promise<{ stdout: string; loaded: Set<string> }> {
  const file = join(tempDir(), 'builtins');
  const { stdout } = await run(process.execPath, ['--require', RECORD_BUILTINS, RPR, ...args], {
    env: { ...process.env, RPR_CONFIG: undefined, XDG_CONFIG_HOME: '/nonexistent', RPR_BUILTINS_FILE: file },
    timeout: 20_000,
  });
  return { stdout, loaded: new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean)) };
}
const RECORD_BUILTINS = fileURLToPath(new URL('../helpers/record-builtins.cjs', import.meta.url));
// fs.promises loads internal/fs/promises alone; an import of node:fs/promises, both.
const FS_PROMISES = ['fs/promises', 'internal/fs/promises'];

describe("Node's own modules: loaded only where used", () => {
  it("a scheduler plugin's --help: no child_process (commander's is loaded on first use), no fs/promises, no v8 (a job's flag)", async () => {
    const r = await builtins(['fibonacci', '--help']);
    expect(r.stdout).toContain('--initial');
    expect(r.loaded).toContain('fs');
    for (const name of ['child_process', 'v8', 'perf_hooks', ...FS_PROMISES]) expect(r.loaded, name).not.toContain(name);
  });

  it('a core job: child_process for its launcher, no fs/promises (only a run with a working directory of its own), no perf_hooks', async () => {
    const r = await builtins(['count', '--times', '1', '--', 'echo', 'ran']);
    expect(r.stdout).toBe('ran\n');
    expect(r.loaded).toContain('child_process');
    for (const name of ['perf_hooks', ...FS_PROMISES]) expect(r.loaded, name).not.toContain(name);
  });

  it('a scheduler plugin job: no perf_hooks (plugin calls are timed by the clock, not performance.now())', async () => {
    const r = await builtins(['fibonacci', '--initial', '10ms', '--times', '1', '--', 'echo', 'ran']);
    expect(r.stdout).toBe('ran\n');
    expect(r.loaded).toContain('child_process');
    expect(r.loaded).not.toContain('perf_hooks');
  });
});
