// In a real process: loading plugins prints nothing on stderr (no WASI ExperimentalWarning), and
// once the handles are closed the process exits by itself - also after a plugin was stopped in the
// middle of a host call, which without unstick.ts left rc13's reply writer spinning forever.
// The host is compiled with tsc into the gitignored fixtures dist/ and run with plain node.
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtures, FIXTURES_DIST } from '../plugins/helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Per process: other people's test runs may run this file at the same time.
const CHILD = path.join(FIXTURES_DIST, `.child-${process.pid}`);

const SCRIPT = `
import { loadPlugin, readManifest } from './dist/plugins/index.js';
const [file, mode] = process.argv.slice(2);
const h = await loadPlugin(await readManifest(file));
const state = { run: 1, last_exit_code: 1, success: false, duration_ms: 1, consecutive_failures: 1, output_tail: mode, now_ms: Date.now(), started_ms: Date.now() };
const answer = await h.call('next', state).then((v) => ({ ok: v }), (e) => ({ failure: e.failure, message: e.message }));
console.log(JSON.stringify(answer));
await h.close();
console.log('closed ' + Date.now());
`;

beforeAll(() => {
  ensureFixtures();
  rmSync(CHILD, { recursive: true, force: true });
  mkdirSync(CHILD, { recursive: true });
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  execFileSync(
    process.execPath,
    [
      tsc,
      '--outDir',
      path.join(CHILD, 'dist'),
      '--rootDir',
      path.join(ROOT, 'src'),
      '--module',
      'NodeNext',
      '--moduleResolution',
      'NodeNext',
      '--target',
      'ES2022',
      '--lib',
      'ES2022',
      '--types',
      'node',
      '--strict',
      '--skipLibCheck',
      '--resolveJsonModule',
      '--allowJs',
      path.join(ROOT, 'src/plugins/index.ts'),
      // Loaded by URL into worker threads, so no import reaches it.
      path.join(ROOT, 'src/plugins/host/worker-preload.js'),
    ],
    { stdio: 'inherit' },
  );
  // The compiled host finds wit/ and package.json relative to itself, as in the package.
  symlinkSync(path.join(ROOT, 'wit'), path.join(CHILD, 'wit'));
  copyFileSync(path.join(ROOT, 'package.json'), path.join(CHILD, 'package.json'));
  writeFileSync(path.join(CHILD, 'check.mjs'), SCRIPT);
}, 120_000);

afterAll(() => rmSync(CHILD, { recursive: true, force: true }));

function run(fixtureName: string, mode: string): Promise<{ code: number | null; stdout: string; stderr: string; exitAfterCloseMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(CHILD, 'check.mjs'), path.join(FIXTURES_DIST, fixtureName, 'plugin.toml'), mode], { cwd: CHILD });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      const closed = Number(/closed (\d+)/.exec(stdout)?.[1] ?? NaN);
      resolve({ code, stdout, stderr, exitAfterCloseMs: Date.now() - closed });
    });
  });
}

describe('a real process', () => {
  it('runs a plugin with a clean stderr and exits when the handle is closed', async () => {
    expect(existsSync(path.join(CHILD, 'dist/plugins/index.js'))).toBe(true);
    const r = await run('good-scheduler', '');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.split('\n')[0]!)).toEqual({ ok: { action: 'run', delay_ms: 100 } });
    expect(r.exitAfterCloseMs).toBeLessThan(3000);
  });

  it('exits after a plugin was stopped in the middle of host calls', async () => {
    const r = await run('hostile', 'host-spin');
    expect(JSON.parse(r.stdout.split('\n')[0]!)).toMatchObject({ failure: 'timeout' });
    expect(r.code).toBe(0);
    expect(r.exitAfterCloseMs).toBeLessThan(5000);
    expect(r.stderr).toBe('');
  });
});
