/**
 * rpr plugins update and validate, through the CLI: an update shows how the permissions change and
 * asks only when they widen; a pinned plugin keeps its content; a plugin updated while a job runs
 * is taken at the job's next call (hot reload, checked against the new lock entry); validate lists
 * every problem of a plugin against wit/.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, run, start, tempDir } from './core-helpers.js';
import { pluginHome, readLockJson, replaceWith, sourceFolder } from './plugins-manage-helpers.js';
import { FIXTURES_DIST } from '../plugins/helpers.js';

/** The checkout: hints name the shipped files by absolute path. */
const ROOT_DIR = fileURLToPath(new URL('../../', import.meta.url));

afterEach(cleanup);

async function installedFrom(folder: string, env: Record<string, string>): Promise<void> {
  const r = await run(['plugins', 'install', folder, '--yes'], { env });
  expect(r.code, r.stderr).toBe(0);
}

describe('rpr plugins update', () => {
  it('shows the permission changes; wider ones need confirmation (exit 2 without it), narrower ones do not', async () => {
    const { dir, env } = pluginHome();
    const folder = sourceFolder('good-scheduler');
    await installedFrom(folder, env);
    const same = await run(['plugins', 'update', 'good-scheduler'], { env });
    expect(same.code).toBe(0);
    expect(same.stdout).toBe(`good-scheduler 1.0.0 is up to date (${folder})\n`);

    // A new release that also wants random numbers and more time per call.
    replaceWith(folder, 'good-scheduler-v2', (t) => t.replace('host_functions = ["time"]', 'host_functions = ["time", "random"]').replace('timeout_ms = 2000', 'timeout_ms = 3000'));
    const asked = await run(['plugins', 'update', 'good-scheduler'], { env });
    expect(asked.code).toBe(2);
    expect(asked.stdout).toContain(`Updating good-scheduler 1.0.0 -> 2.0.0 from ${folder}`);
    expect(asked.stdout).toMatch(/Permission changes:\n {2}\+ host functions: random\n {2}~ call timeout: 2000 ms -> 3000 ms\n/);
    expect(asked.stderr).toMatch(/^rpr: Update good-scheduler to 2\.0\.0 with these permissions: not confirmed/);
    expect(readLockJson(dir).plugins['good-scheduler']!.version).toBe('1.0.0');

    const yes = await run(['plugins', 'update', 'good-scheduler', '--yes'], { env });
    expect(yes.code, yes.stderr).toBe(0);
    expect(yes.stdout).toContain('updated good-scheduler to 2.0.0');
    expect(readLockJson(dir).plugins['good-scheduler']!.version).toBe('2.0.0');
    expect((await run(['plugins', 'info', 'good-scheduler'], { env })).stdout).toMatch(/^ {2}host functions: time, random$/m);

    // Back to fewer permissions: no question asked.
    replaceWith(folder, 'good-scheduler-v2');
    const narrower = await run(['plugins', 'update', '--all'], { env });
    expect(narrower.code, narrower.stderr).toBe(0);
    expect(narrower.stdout).toMatch(/Permission changes:\n {2}- host functions: random\n {2}~ call timeout: 3000 ms -> 2000 ms\n/);
    expect(readLockJson(dir).plugins['good-scheduler']!.version).toBe('2.0.0');
  });

  it('a plugin pinned with --sha256 is not updated to other content unless a new --sha256 is given', async () => {
    const { dir, env } = pluginHome();
    const folder = sourceFolder('good-scheduler');
    const pin = readLockJsonAfter(await run(['plugins', 'install', folder, '--yes', '--sha256', sha(folder)], { env }), dir);
    replaceWith(folder, 'good-scheduler-v2');
    const refused = await run(['plugins', 'update', 'good-scheduler', '--yes'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`not updating good-scheduler: it was pinned to sha256 ${pin}, and ${folder} now has ${sha(folder)}`);
    expect(refused.stderr).toContain(`rpr plugins update good-scheduler --sha256 ${sha(folder)}`);
    const ok = await run(['plugins', 'update', 'good-scheduler', '--yes', '--sha256', sha(folder)], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(readLockJson(dir).plugins['good-scheduler']).toMatchObject({ version: '2.0.0', pinned: sha(folder) });
  });

  it('usage errors: nothing to update, a plugin not installed through rpr, names and --all together', async () => {
    const { env } = pluginHome();
    expect((await run(['plugins', 'update'], { env })).stderr).toMatch(/^rpr: update: which plugin\? \(hint: rpr plugins update NAME, or --all/);
    const bundled = await run(['plugins', 'update', 'fibonacci'], { env });
    expect(bundled.code).toBe(2);
    expect(bundled.stderr).toContain('"fibonacci" was not installed with rpr plugins install');
    expect((await run(['plugins', 'update', 'a', '--all'], { env })).code).toBe(2);
    const none = await run(['plugins', 'update', '--all'], { env });
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^no plugins installed in /);
  });
});

const sha = (folder: string): string => (/sha256 = "([0-9a-f]{64})"/.exec(readFileSync(path.join(folder, 'plugin.toml'), 'utf8')) ?? [])[1]!;
function readLockJsonAfter(r: { code: number | null; stderr: string }, dir: string): string {
  expect(r.code, r.stderr).toBe(0);
  return readLockJson(dir).plugins['good-scheduler']!.pinned!;
}

describe('hot reload of an installed plugin during a running job', () => {
  it('rpr plugins update mid-job: the next decision comes from the new version', async () => {
    const { env } = pluginHome();
    const folder = sourceFolder('good-scheduler');
    await installedFrom(folder, env);
    // good-scheduler waits delay x failures; 2.0.0 waits twice as long. --json records give each
    // run's due time, so due(N) - end(N-1) is exactly the delay the plugin decided after run N-1.
    const job = start(['good-scheduler', '--delay', '40ms', '--attempts', '14', '--json', '-v', '--', 'false'], { env, timeoutMs: 40_000 });
    await job.waitFor('stderr', /next run 4 at/);
    replaceWith(folder, 'good-scheduler-v2');
    const updating = Date.now();
    const up = await run(['plugins', 'update', 'good-scheduler'], { env });
    const updated = Date.now();
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('permissions: unchanged');
    await job.waitFor('stderr', /reloaded version 2\.0\.0 \(was 1\.0\.0\)/, 15_000);
    const done = await job.done;
    expect(done.code).toBe(1);
    expect(done.stderr).toContain('rpr: plugin "good-scheduler": reloaded version 2.0.0 (was 1.0.0)\n');
    const runs = done.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { run: number; due: string; end: string });
    expect(runs).toHaveLength(14);
    let v1 = 0;
    let v2 = 0;
    for (let i = 1; i < runs.length; i++) {
      const decidedAt = Date.parse(runs[i - 1]!.end);
      const delay = Date.parse(runs[i]!.due) - decidedAt;
      const failures = i;
      // The due time also holds the decision's own latency (a reload makes that one slower):
      // 1.0.0 waits less than halfway to 2.0.0's delay, 2.0.0 at least its delay.
      if (failures < 2) continue;
      if (decidedAt < updating) {
        expect(delay, `run ${i + 1}, decided before the update`).toBeGreaterThanOrEqual(40 * failures - 2);
        expect(delay, `run ${i + 1}, decided before the update`).toBeLessThan(60 * failures);
        v1++;
      } else if (decidedAt > updated + 50) {
        expect(delay, `run ${i + 1}, decided after the update`).toBeGreaterThanOrEqual(80 * failures - 2);
        v2++;
      }
    }
    expect(v1).toBeGreaterThanOrEqual(2);
    expect(v2).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

describe('rpr plugins validate', () => {
  it('a good plugin folder, its bare .wasm: ok', async () => {
    const good = await run(['plugins', 'validate', path.join(FIXTURES_DIST, 'good-scheduler')]);
    expect(good.code, good.stdout + good.stderr).toBe(0);
    expect(good.stdout).toBe('good-scheduler 1.0.0 (scheduler): ok\n');
    const bare = await run(['plugins', 'validate', path.join(FIXTURES_DIST, 'sink', 'plugin.wasm')]);
    expect(bare.code, bare.stdout + bare.stderr).toBe(0);
    expect(bare.stdout).toBe('sink 1.0.0 (output): ok\n');
  });

  it('prints every problem: describe against the manifest, exports against the kind, the config schema', async () => {
    const folder = sourceFolder('good-scheduler');
    const toml = path.join(folder, 'plugin.toml');
    writeFileSync(
      toml,
      readFileSync(toml, 'utf8')
        .replace('version = "1.0.0"', 'version = "9.9.9"')
        .replace('kind = "scheduler"', 'kind = "output"')
        .replace('[dependencies]', '[config.extra]\ntype = "string"\nhelp = "not in describe"\n\n[dependencies]'),
    );
    const r = await run(['plugins', 'validate', folder]);
    expect(r.code).toBe(1);
    const problems = r.stdout.split('\n').filter((l) => l.startsWith('problem: '));
    expect(problems).toEqual(
      expect.arrayContaining([
        'problem: plugin.wasm: an output plugin must export the function "deliver"',
        expect.stringMatching(/^problem: plugin\.wasm: export "next" is not part of the output contract/),
        'problem: describe: is a scheduler, plugin.toml says output',
        'problem: describe: is version 1.0.0, plugin.toml says 9.9.9',
        'problem: describe: plugin.toml\'s config key "extra" is not in describe\'s config',
      ]),
    );
    expect(r.stderr).toBe(`rpr: validate: good-scheduler 9.9.9 (output): ${problems.length} problems (hint: see ${ROOT_DIR}wit/rpr-plugin.wit and ${ROOT_DIR}docs/plugins.md)\n`);
  });

  it('a module outside the ABI: imports, memory, exports; a source template; a missing folder', async () => {
    // (import "env" "abort" (func (param i32 i32 i32 i32))), no memory, no exports.
    const wasm = path.join(tempDir(), 'bad.wasm');
    writeFileSync(
      wasm,
      Buffer.from([
        0x00, 0x61, 0x73, 0x6d, 0x01, 0, 0, 0, 0x01, 0x08, 0x01, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x00, 0x02, 0x0d, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x05, 0x61, 0x62, 0x6f, 0x72, 0x74, 0x00, 0x00,
      ]),
    );
    const r = await run(['plugins', 'validate', wasm]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('problem: bad.wasm: import "env" "abort" is not part of the rpr plugin ABI 1');
    expect(r.stdout).toContain('problem: bad.wasm: the module defines 0 memories; a plugin has exactly one');
    expect(r.stdout).toContain('problem: bad.wasm: the module must export its memory as "memory"');

    const template = path.join(tempDir(), 'tpl');
    const made = await run(['plugins', 'new', 'tpl', '--kind', 'output', '--dir', template]);
    expect(made.code, made.stderr).toBe(0);
    const src = await run(['plugins', 'validate', template]);
    expect(src.code).toBe(1);
    expect(src.stdout).toMatch(/runtime\.sha256 is the @SHA256@ placeholder of a source template; build the plugin and validate what the build wrote \(e\.g\. dist\/\)/);
    const missing = await run(['plugins', 'validate', path.join(template, 'nope')]);
    // A path that is not there is bad input, not a bad plugin: exit 2, one line.
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^rpr: plugins validate: \S+nope: no such file or folder \(hint: give a plugin folder/);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });
});
