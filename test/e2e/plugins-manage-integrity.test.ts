/**
 * What keeps installed plugins from being swapped underneath rpr, through the CLI: plugins.lock
 * (a tampered wasm is refused at load, naming the file and both hashes; verify exits 1; update
 * restores it), signatures ([plugins] require_signed, trusted_keys, scripts/sign-plugin.mjs),
 * two rpr processes installing at once, a stale install mutex, remove, disable and enable.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, run, RPR, tempDir } from './core-helpers.js';
import { pluginHome, readLockJson, sourceFolder } from './plugins-manage-helpers.js';

afterEach(cleanup);

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
/** `rpr plugins keygen|pubkey|sign ...`, as a plugin author runs it. */
const sign = (...args: string[]) => execFileSync(process.execPath, [RPR, 'plugins', ...args], { encoding: 'utf8' });

async function installed(fixture = 'good-scheduler'): Promise<{ dir: string; env: Record<string, string>; folder: string }> {
  const { dir, env } = pluginHome();
  const folder = sourceFolder(fixture);
  const r = await run(['plugins', 'install', folder, '--yes'], { env });
  expect(r.code, r.stderr).toBe(0);
  return { dir, env, folder };
}

describe('plugins.lock: every load checks the wasm', () => {
  it('a wasm swapped with its manifest updated to match is refused, naming the file and both hashes; verify exits 1; update restores it', async () => {
    const { dir, env } = await installed();
    const wasm = path.join(dir, 'good-scheduler', 'plugin.wasm');
    const pinned = sha256(wasm);
    // Someone appends to the wasm and fixes the manifest's sha256, as a careful attacker would.
    appendFileSync(wasm, Buffer.from([0]));
    const tampered = sha256(wasm);
    const toml = path.join(dir, 'good-scheduler', 'plugin.toml');
    writeFileSync(toml, readFileSync(toml, 'utf8').replace(pinned, tampered));

    const job = await run(['good-scheduler', '--delay', '10ms', '--', 'true'], { env });
    expect(job.code).toBe(2);
    expect(job.stdout).toBe('');
    expect(job.stderr).toContain(`${wasm}: sha256 is ${tampered}, but plugins.lock pinned ${pinned}`);
    expect(job.stderr).toContain('refusing to load it');
    const generic = await run(['plugin', 'good-scheduler', '--', 'true'], { env });
    expect(generic.code).toBe(2);
    expect(generic.stderr).toContain(tampered);

    const list = await run(['plugins', 'list'], { env });
    expect(list.stdout).not.toMatch(/^good-scheduler /m);
    expect(list.stderr).toContain(`rpr: ${wasm}: sha256 is ${tampered}`);

    const verify = await run(['plugins', 'verify'], { env });
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`FAILED  good-scheduler: ${wasm} has sha256 ${tampered}, plugins.lock says ${pinned}`);
    expect(verify.stdout).toMatch(/^ok +fibonacci 1\.0\.0: ok, sha256 [0-9a-f]{12}… \(bundled\)$/m);
    expect(verify.stderr).toMatch(/^rpr: verify: 1 of \d+ plugins differ from what was installed: good-scheduler/);

    const restore = await run(['plugins', 'update', 'good-scheduler'], { env });
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toContain('Restoring good-scheduler 1.0.0');
    expect((await run(['plugins', 'verify'], { env })).code).toBe(0);
    expect((await run(['good-scheduler', '--delay', '10ms', '--', 'true'], { env })).code).toBe(0);
  });

  it("a wasm changed without touching the manifest is refused too (the host's own check)", async () => {
    const { dir, env } = await installed();
    appendFileSync(path.join(dir, 'good-scheduler', 'plugin.wasm'), Buffer.from([0]));
    const job = await run(['good-scheduler', '--', 'true'], { env });
    expect(job.code).toBe(2);
    expect(job.stderr).toMatch(/cannot be loaded: .*plugin\.wasm: sha256 is [0-9a-f]{64}, but plugins\.lock pinned [0-9a-f]{64}/);
  });

  it('a corrupt plugins.lock refuses installed plugins but not bundled ones', async () => {
    const { dir, env } = await installed();
    writeFileSync(path.join(dir, 'plugins.lock'), '{"lockfile_version": 1, "plugins": {');
    const job = await run(['good-scheduler', '--', 'true'], { env });
    expect(job.code).toBe(2);
    expect(job.stderr).toMatch(/cannot check plugin "good-scheduler" against its lock file: .*plugins\.lock: is not JSON/);
    expect((await run(['fibonacci', '--attempts', '1', '--', 'true'], { env })).code).toBe(0);
  });
});

describe('signatures', () => {
  function keys(): { key: string; pub: string; config: (extra: string) => string } {
    const dir = tempDir();
    const key = path.join(dir, 'key.pem');
    sign('keygen', '--out', key);
    const pub = sign('pubkey', '--key', key).trim();
    return {
      key,
      pub,
      config: (extra) => {
        const file = path.join(dir, `rpr-${Math.random().toString(36).slice(2)}.toml`);
        writeFileSync(file, `[plugins]\n${extra}\n`);
        return file;
      },
    };
  }

  it('require_signed: an unsigned plugin is refused at install and at load; a signed one by a trusted key installs and runs', async () => {
    const { key, pub, config } = keys();
    const required = config(`require_signed = true\ntrusted_keys = ["${pub}"]`);
    const { dir, env } = pluginHome();
    const folder = sourceFolder('good-scheduler');
    const unsigned = await run(['--config', required, 'plugins', 'install', folder, '--yes'], { env });
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/^rpr: not installing good-scheduler: it is not signed, and \[plugins\] require_signed = true/);
    expect(readdirSync(dir)).toEqual([]);

    expect(sign('sign', folder, '--key', key)).toContain(`with ${pub}`);
    const signed = await run(['--config', required, 'plugins', 'install', folder, '--yes'], { env });
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toMatch(/signature: valid, by trusted key ed25519:/);
    expect(readLockJson(dir).plugins['good-scheduler']!.signed_by).toBe(pub);
    expect((await run(['--config', required, 'good-scheduler', '--delay', '10ms', '--', 'true'], { env })).code).toBe(0);
    expect((await run(['--config', required, 'plugins', 'verify'], { env })).code).toBe(0);

    // The signature file removed after install: refused at load, and verify notices.
    rmSync(path.join(dir, 'good-scheduler', 'plugin.sig'));
    const missing = await run(['--config', required, 'good-scheduler', '--', 'true'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('plugin "good-scheduler" is not signed ([plugins] require_signed = true); refusing to load it');
    const verify = await run(['--config', required, 'plugins', 'verify'], { env });
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/FAILED +good-scheduler: was signed by ed25519:.* at install, and its plugin\.sig is gone/);
  });

  it('a key that is not trusted is refused when signatures are required; without require_signed it installs with a note', async () => {
    const { key, config } = keys();
    const other = keys();
    const folder = sourceFolder('good-scheduler');
    sign('sign', folder, '--key', key);
    const { dir, env } = pluginHome();
    const strict = config(`require_signed = true\ntrusted_keys = ["${other.pub}"]`);
    const refused = await run(['--config', strict, 'plugins', 'install', folder, '--yes'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/it is signed by ed25519:.*, which is not in \[plugins\] trusted_keys \(hint: if you trust that key, add "ed25519:/);
    const relaxed = await run(['plugins', 'install', folder, '--yes'], { env });
    expect(relaxed.code, relaxed.stderr).toBe(0);
    expect(relaxed.stdout).toMatch(/signature: valid, by ed25519:\S+, which is not in \[plugins\] trusted_keys/);
    // Then turning require_signed on refuses it at load.
    const load = await run(['--config', strict, 'good-scheduler', '--', 'true'], { env });
    expect(load.code).toBe(2);
    expect(load.stderr).toMatch(/is signed by ed25519:\S+, which is not in \[plugins\] trusted_keys; refusing to load it/);
    expect(existsSync(path.join(dir, 'good-scheduler'))).toBe(true);
  });

  it('a signature that does not match the wasm is refused at install and at load, even when signatures are optional', async () => {
    const { key } = keys();
    const folder = sourceFolder('good-scheduler');
    sign('sign', folder, '--key', key);
    const sig = JSON.parse(readFileSync(path.join(folder, 'plugin.sig'), 'utf8')) as { signature: string };
    const forged = Buffer.from(sig.signature, 'base64');
    forged[0] = forged[0]! ^ 1;
    writeFileSync(path.join(folder, 'plugin.sig'), JSON.stringify({ ...sig, signature: forged.toString('base64') }));
    const { dir, env } = pluginHome();
    const r = await run(['plugins', 'install', folder, '--yes'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not installing good-scheduler: plugin\.sig: the signature does not verify with key ed25519:/);
    expect(readdirSync(dir)).toEqual([]);
    // Installed unsigned, then given the forged signature: refused at load.
    const forgedSig = readFileSync(path.join(folder, 'plugin.sig'));
    rmSync(path.join(folder, 'plugin.sig'));
    expect((await run(['plugins', 'install', folder, '--yes'], { env })).code).toBe(0);
    writeFileSync(path.join(dir, 'good-scheduler', 'plugin.sig'), forgedSig);
    const load = await run(['good-scheduler', '--', 'true'], { env });
    expect(load.code).toBe(2);
    expect(load.stderr).toMatch(/plugin "good-scheduler": plugin\.sig: the signature does not verify with key ed25519:\S+; refusing to load it/);
  });
});

describe('two rpr processes at once', () => {
  const installProcess = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [RPR, 'plugins', 'install', ...args, '--yes'], {
        env: { ...process.env, RPR_CONFIG: undefined, XDG_CONFIG_HOME: '/nonexistent', ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });

  it('installing different plugins concurrently: both end up installed, the lock file is whole and lists both', async () => {
    const { dir, env } = pluginHome();
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all([installProcess([sourceFolder('good-scheduler')], env), installProcess([sourceFolder('sink')], env), installProcess([sourceFolder('executor')], env)]);
      for (const r of results) expect(r.code, r.stderr).toBe(0);
    }
    const lock = readLockJson(dir);
    expect(Object.keys(lock.plugins).sort()).toEqual(['executor', 'good-scheduler', 'sink']);
    for (const [name, entry] of Object.entries(lock.plugins)) {
      expect(readlinkSync(path.join(dir, name))).toBe(entry.store);
      expect(sha256(path.join(dir, name, 'plugin.wasm'))).toBe(entry.sha256);
    }
    // Old versions and temporary files are gone: one store folder per plugin, no leftovers.
    expect(readdirSync(path.join(dir, '.store')).sort()).toEqual(
      Object.values(lock.plugins)
        .map((e) => path.basename(e.store))
        .sort(),
    );
    expect(readdirSync(dir).filter((f) => f.includes('.tmp') || f.includes('.link-') || f.endsWith('.busy'))).toEqual([]);
    expect((await run(['plugins', 'verify'], { env })).code).toBe(0);
  });

  it('installing the same plugin from two versions at once: whichever wins, files and lock agree', async () => {
    const { dir, env } = pluginHome();
    const [a, b] = await Promise.all([installProcess([sourceFolder('good-scheduler')], env), installProcess([sourceFolder('good-scheduler-v2')], env)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const entry = readLockJson(dir).plugins['good-scheduler']!;
    expect(sha256(path.join(dir, 'good-scheduler', 'plugin.wasm'))).toBe(entry.sha256);
    expect(readFileSync(path.join(dir, 'good-scheduler', 'plugin.toml'), 'utf8')).toContain(`version = "${entry.version}"`);
    expect((await run(['plugins', 'verify'], { env })).code).toBe(0);
  });

  it('a mutex left by a process that died is taken over', async () => {
    const { dir, env } = pluginHome();
    writeFileSync(path.join(dir, 'plugins.lock.busy'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), started: Date.now(), token: 'dead' }));
    const r = await run(['plugins', 'install', sourceFolder('sink'), '--yes'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'plugins.lock.busy'))).toBe(false);
  });
});

describe('remove, disable, enable', () => {
  it('disable turns a plugin off (bundled or installed) and enable turns it back on; remove deletes an installed one', async () => {
    const { dir, env } = await installed('good-scheduler');
    const off = await run(['plugins', 'disable', 'fibonacci'], { env });
    expect(off.code, off.stderr).toBe(0);
    expect(readLockJson(dir).disabled).toEqual(['fibonacci']);
    const list = await run(['plugins', 'list'], { env });
    expect(list.stdout).toMatch(/^fibonacci +1\.0\.0 +scheduler +bundled +no +none$/m);
    const job = await run(['fibonacci', '--', 'true'], { env });
    expect(job.code).not.toBe(0);
    // [plugins] enabled in a config file overrides rpr plugins disable.
    const cfg = path.join(tempDir(), 'rpr.toml');
    writeFileSync(cfg, '[plugins]\nenabled = ["fibonacci"]\n');
    expect((await run(['--config', cfg, 'fibonacci', '--attempts', '1', '--', 'true'], { env })).code).toBe(0);
    expect((await run(['plugins', 'enable', 'fibonacci'], { env })).code).toBe(0);
    expect((await run(['fibonacci', '--attempts', '1', '--', 'true'], { env })).code).toBe(0);

    const nothing = await run(['plugins', 'disable', 'nope'], { env });
    expect(nothing.code).toBe(2);
    const bundled = await run(['plugins', 'remove', 'fibonacci'], { env });
    expect(bundled.code).toBe(2);
    expect(bundled.stderr).toMatch(/"fibonacci" is bundled with rpr and cannot be removed \(hint: rpr plugins disable fibonacci/);

    const store = readLockJson(dir).plugins['good-scheduler']!.store;
    const rm = await run(['plugins', 'remove', 'good-scheduler'], { env });
    expect(rm.code, rm.stderr).toBe(0);
    expect(readLockJson(dir).plugins).toEqual({});
    expect(existsSync(path.join(dir, 'good-scheduler'))).toBe(false);
    expect(existsSync(path.join(dir, store))).toBe(false);
    expect((await run(['good-scheduler', '--', 'true'], { env })).code).toBe(2);
  });

  it('remove of a plugin copied in by hand deletes its folder', async () => {
    const { dir, env } = pluginHome();
    cpSync(sourceFolder('sink'), path.join(dir, 'sink'), { recursive: true });
    expect(lstatSync(path.join(dir, 'sink')).isDirectory()).toBe(true);
    const list = await run(['plugins', 'list'], { env });
    expect(list.stdout).toMatch(/^sink +1\.0\.0 +output +user +yes/m);
    expect((await run(['plugins', 'remove', 'sink'], { env })).code).toBe(0);
    expect(existsSync(path.join(dir, 'sink'))).toBe(false);
  });
});
