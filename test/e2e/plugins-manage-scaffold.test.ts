/**
 * The plugin author's path: `rpr plugins new NAME --kind K [--lang as|rust]` makes a project that
 * builds and passes its own test as generated (the test builds it, runs `rpr plugins validate`,
 * installs it into a temporary plugin folder and runs a job through the real CLI), and
 * plugins-src/rust-example/ is exactly what `--lang rust` writes. The Rust cases need rustc with the
 * wasm32-unknown-unknown standard library (CI installs Debian's rustc, libstd-rust-dev-wasm32, lld);
 * without it they are skipped with the reason.
 */
import { execFile } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { scaffoldFiles } from '../../src/manage/scaffold.js';
import { cleanup, RPR, run, tempDir } from './core-helpers.js';

afterEach(cleanup);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = path.join(ROOT, 'plugins-src', 'rust-example');
const exec = promisify(execFile);

/** Runs a project's `node test.mjs` with this checkout's rpr; resolves to its output and status. */
async function projectTest(dir: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['test.mjs'], { cwd: dir, env: { ...process.env, RPR: RPR, RPR_CONFIG: undefined }, timeout: 150_000 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Whether a Rust compiler for wasm32 is here: the example's own build script answers. */
const rust = await exec(process.execPath, [path.join(EXAMPLE, 'build.mjs'), '--check-toolchain']).then(
  ({ stdout }) => ({ ok: true, why: stdout.trim() }),
  (error: { stderr?: string }) => ({ ok: false, why: (error.stderr ?? String(error)).trim() }),
);
if (!rust.ok) console.warn(`plugins-manage-scaffold: Rust cases skipped: ${rust.why}`);
const needRust = (skip: (note: string) => never) => {
  if (!rust.ok) skip(`no Rust toolchain for wasm32-unknown-unknown: ${rust.why}`);
};

describe('rpr plugins new', () => {
  it.each(['scheduler', 'executor', 'output'])(
    '--kind %s (AssemblyScript): builds and passes its own test as generated',
    async (kind) => {
      const dir = path.join(tempDir(), `my-${kind}`);
      const made = await run(['plugins', 'new', `my-${kind}`, '--kind', kind, '--dir', dir]);
      expect(made.code, made.stderr).toBe(0);
      expect(made.stdout).toContain(`created ${kind} plugin "my-${kind}" (AssemblyScript) in ${dir}:`);
      expect(readdirSync(dir).sort()).toEqual(['.gitignore', 'README.md', 'build.mjs', 'package.json', 'plugin.toml', 'src', 'test.mjs']);
      expect(readdirSync(path.join(dir, 'src')).sort()).toEqual(['index.ts', 'rpr.ts']);
      const t = await projectTest(dir);
      expect(t.code, t.out).toBe(0);
      expect(t.out).toContain('all checks passed');
      expect(t.out).not.toContain('not ok');
    },
    180_000,
  );

  it.for(['scheduler', 'executor', 'output'])(
    '--kind %s --lang rust: builds and passes its own test as generated',
    async (kind, { skip }) => {
      needRust(skip);
      const dir = path.join(tempDir(), `rs-${kind}`);
      const made = await run(['plugins', 'new', `rs-${kind}`, '--kind', kind, '--lang', 'rust', '--dir', dir]);
      expect(made.code, made.stderr).toBe(0);
      expect(readdirSync(path.join(dir, 'src')).sort()).toEqual(['lib.rs', 'rpr.rs']);
      const t = await projectTest(dir);
      expect(t.code, t.out).toBe(0);
      expect(t.out).toContain('all checks passed');
    },
    180_000,
  );

  it('refuses a bad name, an unknown kind or language, and a folder that is not empty', async () => {
    const base = tempDir();
    const bad = await run(['plugins', 'new', 'Bad_Name', '--kind', 'scheduler', '--dir', path.join(base, 'a')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"Bad_Name" is not a plugin name/);
    expect((await run(['plugins', 'new', 'x', '--kind', 'planner', '--dir', path.join(base, 'b')])).stderr).toMatch(/--kind must be one of scheduler, executor, output/);
    expect((await run(['plugins', 'new', 'x', '--kind', 'output', '--lang', 'go', '--dir', path.join(base, 'c')])).stderr).toMatch(/--lang must be one of as, rust/);
    writeFileSync(path.join(base, 'keep'), 'x');
    const full = await run(['plugins', 'new', 'x', '--kind', 'output', '--dir', base]);
    expect(full.code).toBe(2);
    expect(full.stderr).toMatch(/already exists and is not empty/);
  });
});

describe('plugins-src/rust-example', () => {
  it('is exactly what rpr plugins new rust-example --kind scheduler --lang rust writes', async () => {
    const want = await scaffoldFiles({ name: 'rust-example', kind: 'scheduler', lang: 'rust', dir: EXAMPLE, rprHome: '../..' });
    for (const [file, text] of want) expect(readFileSync(path.join(EXAMPLE, file), 'utf8'), file).toBe(text);
  });

  it('builds with a Rust compiler for wasm32 (no crates) and runs as a scheduler through the real CLI', async ({ skip }) => {
    needRust(skip);
    // A copy, so that the build does not write into the source tree.
    const dir = path.join(tempDir(), 'rust-example');
    for (const file of ['plugin.toml', 'build.mjs', 'test.mjs', 'package.json', 'src/lib.rs', 'src/rpr.rs']) cpSync(path.join(EXAMPLE, file), path.join(dir, file));
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { rpr: { home: string } };
    pkg.rpr.home = ROOT;
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
    const t = await projectTest(dir);
    expect(t.code, t.out).toBe(0);
    expect(t.out).toContain('ok - a failing command runs --attempts times and the job ends with its exit code');

    // And by hand: install the build, run it with --verbose to see its own messages.
    const plugins = tempDir();
    const env = { RPR_PLUGIN_DIR: plugins };
    const install = await run(['plugins', 'install', path.join(dir, 'dist'), '--yes'], { env });
    expect(install.code, install.stderr).toBe(0);
    const validate = await run(['plugins', 'validate', path.join(plugins, 'rust-example')]);
    expect(validate.code, validate.stdout).toBe(0);
    expect(validate.stdout).toMatch(/rust-example 0\.1\.0 \(scheduler\): ok$/m);
    const job = await run(['rust-example', '--delay', '20ms', '--attempts', '3', '--json', '--', 'sh', '-c', 'exit 4'], { env });
    expect(job.code, job.stderr).toBe(4);
    const runs = job.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { run: number; exit_code: number });
    expect(runs.map((r) => r.exit_code)).toEqual([4, 4, 4]);
  }, 180_000);
});
