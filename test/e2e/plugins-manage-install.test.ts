/**
 * rpr plugins install, through the CLI, into a temporary RPR_PLUGIN_DIR: from a bare .wasm (its
 * describe answer makes the manifest), a folder, a local .tar.gz, a loopback HTTPS server with a
 * self-signed certificate trusted through NODE_EXTRA_CA_CERTS (plain http on 127.0.0.1 when openssl
 * is missing), and the name of a bundled plugin. Permissions are shown first; without a terminal
 * and without --yes nothing is installed (exit 2); --sha256 pins the content.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, RPR, run, STACK_LINE } from './core-helpers.js';
import { exists, files, HAVE_OPENSSL, pluginHome, readLockJson, serve, sourceFolder, tarGz, type Server } from './plugins-manage-helpers.js';

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  await cleanup();
});

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const jsonRuns = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { exit_code: number });

describe('install from a file and a folder', () => {
  it('a bare .wasm is described through its own describe export; plugin.toml is generated, asking for nothing', async () => {
    const { dir, env } = pluginHome();
    const wasm = path.join(sourceFolder('sink'), 'plugin.wasm');
    const r = await run(['plugins', 'install', wasm, '--yes'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Installing sink 1.0.0 (output) from ${wasm}`);
    expect(r.stdout).toMatch(/plugin\.toml was generated from the plugin's describe answer/);
    expect(r.stdout).toMatch(/^ {2}network: +none$/m);
    expect(r.stdout).toMatch(/^ {2}host functions: +none$/m);
    expect(r.stdout).toContain(`installed sink 1.0.0 into ${path.join(dir, 'sink')}`);
    const toml = readFileSync(path.join(dir, 'sink', 'plugin.toml'), 'utf8');
    expect(toml).toContain('name = "sink"');
    expect(toml).toContain(`sha256 = "${sha256(wasm)}"`);
    expect(toml).toMatch(/\[config\."mode"\]\ntype = "string"/);
    const lock = readLockJson(dir);
    expect(lock.plugins.sink).toMatchObject({ version: '1.0.0', sha256: sha256(wasm), source: wasm, source_type: 'file' });
    // It is a working output plugin.
    const job = await run(['count', '--times', '2', '--output', 'sink', '--', 'true'], { env });
    expect(job.code, job.stderr).toBe(0);
  });

  it('a folder: listed as installed and enabled; info and --json say where it came from', async () => {
    const { dir, env } = pluginHome();
    const folder = sourceFolder('good-scheduler');
    const r = await run(['plugins', 'install', folder, '--yes'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}host functions: time$/m);
    expect(r.stdout).toMatch(/^ {2}memory: +8 MB, calls time out after 2000 ms$/m);
    // NAME is a symlink into .store/, switched in one rename.
    expect(readlinkSync(path.join(dir, 'good-scheduler'))).toMatch(/^\.store\/good-scheduler-[0-9a-f]{12}-[0-9a-f]{6}$/);

    const list = await run(['plugins', 'list'], { env });
    expect(list.stdout).toMatch(/^good-scheduler +1\.0\.0 +scheduler +installed +yes +host time$/m);
    expect(list.stdout).toMatch(/^fibonacci +1\.0\.0 +scheduler +bundled +yes +none$/m);
    const json = JSON.parse((await run(['plugins', 'list', '--json'], { env })).stdout) as { name: string; source: string; enabled: boolean; installed_from?: string }[];
    expect(json.find((p) => p.name === 'good-scheduler')).toMatchObject({ source: 'installed', enabled: true, installed_from: folder });
    const info = await run(['plugins', 'info', 'good-scheduler'], { env });
    expect(info.stdout).toContain(`source:  installed from ${folder} (folder) on `);
    expect(info.stdout).toMatch(/^lock: +plugins\.lock pins sha256 [0-9a-f]{64}$/m);

    const job = await run(['good-scheduler', '--delay', '10ms', '--attempts', '2', '--json', '--', 'false'], { env });
    expect(job.code, job.stderr).toBe(1);
    expect(jsonRuns(job.stdout), job.stderr).toHaveLength(2);
  });

  it('without --yes and without a terminal: the permissions are shown, nothing is installed, exit 2 with a hint', async () => {
    const { dir, env } = pluginHome();
    const r = await run(['plugins', 'install', sourceFolder('good-scheduler')], { env });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/It asks for these permissions:\n {2}network: +none/);
    expect(r.stderr).toMatch(/^rpr: Install good-scheduler 1\.0\.0 with these permissions: not confirmed \(no terminal to ask on\), nothing was changed \(hint: .*--yes/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(readdirSync(dir)).toEqual([]);
  });

  // util-linux `script` gives rpr a terminal, so the question is really asked.
  const HAVE_SCRIPT = spawnSync('script', ['--version']).status === 0;
  it.runIf(HAVE_SCRIPT)('on a terminal it asks: "n" (or nothing) installs nothing, "y" installs', async () => {
    const { dir, env } = pluginHome();
    const folder = sourceFolder('good-scheduler');
    const ask = (answer: string) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
        const child = spawn('script', ['-qec', [process.execPath, RPR, 'plugins', 'install', folder].map(quote).join(' '), '/dev/null'], {
          env: { ...process.env, RPR_CONFIG: undefined, XDG_CONFIG_HOME: '/nonexistent', ...env },
        });
        let out = '';
        let answered = false;
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (!answered && out.includes('[y/N]')) {
            answered = true;
            child.stdin.write(`${answer}\n`);
          }
        });
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, out });
        });
      });
    const no = await ask('n');
    expect(no.out).toContain('Install good-scheduler 1.0.0 with these permissions? [y/N]');
    expect(no.out).toContain('rpr: cancelled, nothing was changed');
    expect(no.code).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
    const yes = await ask('y');
    expect(yes.code, yes.out).toBe(0);
    expect(yes.out).toContain(`installed good-scheduler 1.0.0 into ${path.join(dir, 'good-scheduler')}`);
  });

  it('--sha256: the right hash is recorded as a pin; a wrong one refuses the install and writes nothing', async () => {
    const { dir, env } = pluginHome();
    const folder = sourceFolder('good-scheduler');
    const actual = sha256(path.join(folder, 'plugin.wasm'));
    const wrong = await run(['plugins', 'install', folder, '--yes', '--sha256', 'ab'.repeat(32)], { env });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`not installing good-scheduler: its wasm has sha256 ${actual}, but --sha256 expects ${'ab'.repeat(32)}`);
    expect(readdirSync(dir)).toEqual([]);
    const bad = await run(['plugins', 'install', folder, '--yes', '--sha256', 'xyz'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--sha256 "xyz" is not 64 hex digits/);
    const right = await run(['plugins', 'install', folder, '--yes', '--sha256', actual.toUpperCase()], { env });
    expect(right.code, right.stderr).toBe(0);
    expect(right.stdout).toContain(`sha256: ${actual} (matches --sha256)`);
    expect(readLockJson(dir).plugins['good-scheduler']!.pinned).toBe(actual);
  });

  it('a folder whose plugin.toml does not match its wasm, or a wasm that breaks the contract, is refused', async () => {
    const { dir, env } = pluginHome();
    const folder = sourceFolder('good-scheduler');
    const v2 = sourceFolder('good-scheduler-v2');
    // v1's manifest with v2's wasm: the sha256 in plugin.toml is wrong.
    cpSync(path.join(v2, 'plugin.wasm'), path.join(folder, 'plugin.wasm'));
    const r = await run(['plugins', 'install', folder, '--yes'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/plugin\.wasm has sha256 [0-9a-f]{64}, but its plugin\.toml says [0-9a-f]{64}/);
    expect(readdirSync(dir)).toEqual([]);
    const none = await run(['plugins', 'install', path.join(folder, 'nope.wasm'), '--yes'], { env });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/nope\.wasm: no such file or folder \(hint: SOURCE is a \.wasm file, a folder/);
    const text = path.join(folder, 'notes.txt');
    writeFileSync(text, 'not a plugin\n');
    const other = await run(['plugins', 'install', text, '--yes'], { env });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/notes\.txt: is neither a \.wasm module, a \.tar\.gz archive nor a plugin\.toml \(hint: SOURCE is a \.wasm file/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a local .tar.gz holding one plugin folder', async () => {
    const { dir, env } = pluginHome();
    const archive = tarGz(sourceFolder('good-scheduler'));
    const r = await run(['plugins', 'install', archive, '--yes'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(readLockJson(dir).plugins['good-scheduler']).toMatchObject({ source: archive, source_type: 'file' });
  });
});

describe(`install from a URL (${HAVE_OPENSSL ? 'https on 127.0.0.1 with a self-signed certificate trusted through NODE_EXTRA_CA_CERTS' : 'http on 127.0.0.1: openssl is missing, so no certificate can be made'})`, () => {
  async function server(redirects: Record<string, string> = {}): Promise<{ s: Server; env: Record<string, string>; dir: string }> {
    const folder = sourceFolder('good-scheduler');
    const s = await serve(
      files(
        {
          '/good.tar.gz': readFileSync(tarGz(folder)),
          '/sink.wasm': readFileSync(path.join(sourceFolder('sink'), 'plugin.wasm')),
          '/junk.tar.gz': Buffer.from('not gzip at all'),
        },
        redirects,
      ),
    );
    servers.push(s);
    const { dir, env } = pluginHome();
    return { s, dir, env: { ...env, ...(s.ca ? { NODE_EXTRA_CA_CERTS: s.ca } : {}) } };
  }

  it('a .tar.gz and a bare .wasm; the source URL is recorded for update', async () => {
    const { s, dir, env } = await server({ '/latest': '/good.tar.gz' });
    const tgz = await run(['plugins', 'install', `${s.url}/latest`, '--yes'], { env });
    expect(tgz.code, tgz.stderr).toBe(0);
    expect(tgz.stdout).toContain(`Installing good-scheduler 1.0.0 (scheduler) from ${s.url}/latest`);
    const wasm = await run(['plugins', 'install', `${s.url}/sink.wasm`, '--yes'], { env });
    expect(wasm.code, wasm.stderr).toBe(0);
    const lock = readLockJson(dir);
    expect(lock.plugins['good-scheduler']).toMatchObject({ source: `${s.url}/latest`, source_type: 'url' });
    expect(lock.plugins.sink).toMatchObject({ source: `${s.url}/sink.wasm`, source_type: 'url' });
    // The bare .wasm's signature was looked for beside it.
    expect(s.hits).toContain('/sink.wasm.sig');
    const up = await run(['plugins', 'update', '--all'], { env });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('good-scheduler 1.0.0 is up to date');
    expect(up.stdout).toContain('sink 1.0.0 is up to date');
  });

  it('without --yes it downloads and shows, but installs nothing (exit 2)', async () => {
    const { s, dir, env } = await server();
    const r = await run(['plugins', 'install', `${s.url}/good.tar.gz`], { env });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/host functions: time/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refused: too many redirects, a 404, not an archive, plain http to another host, a wrong --sha256', async () => {
    const loop: Record<string, string> = {};
    for (let i = 0; i < 8; i++) loop[`/r${i}`] = `/r${i + 1}`;
    const { s, dir, env } = await server(loop);
    const redirects = await run(['plugins', 'install', `${s.url}/r0`, '--yes'], { env });
    expect(redirects.code).toBe(1);
    expect(redirects.stderr).toContain(`cannot download ${s.url}/r0: more than 5 redirects`);
    const missing = await run(['plugins', 'install', `${s.url}/nothing.wasm`, '--yes'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('HTTP 404');
    const junk = await run(['plugins', 'install', `${s.url}/junk.tar.gz`, '--yes'], { env });
    expect(junk.code).toBe(1);
    expect(junk.stderr).toContain('is neither a .wasm module nor a .tar.gz archive');
    const plain = await run(['plugins', 'install', 'http://example.com/x.wasm', '--yes'], { env });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('plain http is only allowed to this machine');
    const pinned = await run(['plugins', 'install', `${s.url}/good.tar.gz`, '--yes', '--sha256', '0'.repeat(64)], { env });
    expect(pinned.code).toBe(1);
    expect(pinned.stderr).toContain(`but --sha256 expects ${'0'.repeat(64)}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it.runIf(HAVE_OPENSSL)('https with a certificate rpr does not trust is refused', async () => {
    const { s, dir, env } = await server();
    const { NODE_EXTRA_CA_CERTS: _, ...untrusting } = env;
    const r = await run(['plugins', 'install', `${s.url}/good.tar.gz`, '--yes'], { env: untrusting });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot download .*(SELF_SIGNED|self-signed|certificate)/i);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('install NAME of a bundled plugin', () => {
  it('copies it into the plugin folder to customise; the copy replaces the bundled one', async () => {
    const { dir, env } = pluginHome();
    const r = await run(['plugins', 'install', 'fibonacci', '--yes'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Installing fibonacci 1.0.0 (scheduler) from bundled:fibonacci');
    expect(r.stdout).toMatch(/"fibonacci" is bundled with rpr and works without installing; this copies it into your plugin folder to customise/);
    expect(exists(dir, 'fibonacci', 'plugin.toml')).toBe(true);
    expect(readLockJson(dir).plugins.fibonacci).toMatchObject({ source: 'bundled:fibonacci', source_type: 'bundled' });
    const info = await run(['plugins', 'info', 'fibonacci'], { env });
    expect(info.stdout).toMatch(/^fibonacci 1\.0\.0 \(scheduler, installed, replaces the bundled 1\.0\.0\)/);

    // Customise it: a default of 2 attempts instead of 0 (no limit). The wasm is untouched, so it
    // still loads; update keeps the edits while the bundled plugin has not changed.
    const toml = path.join(dir, 'fibonacci', 'plugin.toml');
    writeFileSync(toml, readFileSync(toml, 'utf8').replace(/(\[config\.attempts\]\ntype = "integer"\ndefault = )0\n/, '$12\n'));
    const job = await run(['fibonacci', '--initial', '10ms', '--json', '--', 'false'], { env });
    expect(job.code, job.stderr).toBe(1);
    expect(jsonRuns(job.stdout)).toHaveLength(2);
    const up = await run(['plugins', 'update', 'fibonacci'], { env });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toBe('fibonacci 1.0.0 is up to date (bundled:fibonacci); your edits to its plugin.toml are kept\n');
    expect(readFileSync(toml, 'utf8')).toContain('default = 2\n');
    const verify = await run(['plugins', 'verify'], { env });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^ok +fibonacci 1\.0\.0: ok, sha256 [0-9a-f]{12}… from bundled:fibonacci, its plugin\.toml was edited after install$/m);
  });

  it("the seed's name fibonacci-backoff: exit 2, saying which bundled plugin is meant", async () => {
    const { dir, env } = pluginHome();
    const r = await run(['plugins', 'install', 'fibonacci-backoff', '--yes'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^rpr: no bundled plugin "fibonacci-backoff", and no file or folder of that name \(hint: did you mean "fibonacci"\? Bundled plugins work without installing/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
