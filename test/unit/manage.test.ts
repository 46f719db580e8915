// src/manage/ pieces on their own: the tar reader (what it refuses), the lock file and its mutex
// (atomic writes, serialisation, stale takeover), signatures, the download limits, permission diffs.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { download } from '../../src/manage/download.js';
import { emptyLock, MUTEX_FILE, readLock, withMutex, writeLock } from '../../src/manage/lockfile.js';
import { permissionChanges } from '../../src/manage/permissions-text.js';
import { checkSignature, signedMessage } from '../../src/manage/signature.js';
import { readTarGz, safeName } from '../../src/manage/tar.js';
import type { Permissions } from '../../src/plugins/index.js';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'rpr-manage-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** One ustar header + data, for archives tar(1) will not make (links, traversal). */
function entry(name: string, data: Buffer, type = '0', link = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write(type, 156);
  h.write(link, 157, 100);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}
const archive = (...entries: Buffer[]) => gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));

describe('tar reader', () => {
  it('reads what tar(1) makes, with folders and long names', () => {
    const root = temp();
    const long = `${'d'.repeat(80)}/${'f'.repeat(80)}.txt`;
    mkdirSync(path.join(root, 'p', 'd'.repeat(80)), { recursive: true });
    writeFileSync(path.join(root, 'p', 'plugin.toml'), 'toml');
    writeFileSync(path.join(root, 'p', long), 'deep');
    const file = path.join(temp(), 'p.tgz');
    execFileSync('tar', ['-czf', file, '-C', root, 'p']);
    const files = readTarGz(readFileSync(file), 1 << 20);
    expect(files.get('p/plugin.toml')?.toString()).toBe('toml');
    expect(files.get(`p/${long}`)?.toString()).toBe('deep');
  });

  it('refuses links, devices, names leaving the folder, bad checksums, too much data', () => {
    expect(() => readTarGz(archive(entry('p/link', Buffer.alloc(0), '2', '/etc/passwd')), 1 << 20)).toThrow(/is a symbolic link/);
    expect(() => readTarGz(archive(entry('p/hard', Buffer.alloc(0), '1', 'p/x')), 1 << 20)).toThrow(/is a hard link/);
    expect(() => readTarGz(archive(entry('p/dev', Buffer.alloc(0), '3')), 1 << 20)).toThrow(/is a device/);
    expect(() => readTarGz(archive(entry('../evil', Buffer.from('x'))), 1 << 20)).toThrow(/outside the plugin's folder/);
    expect(() => readTarGz(archive(entry('/abs', Buffer.from('x'))), 1 << 20)).toThrow(/outside the plugin's folder/);
    const corrupt = Buffer.concat([entry('p/a', Buffer.from('x')), Buffer.alloc(1024)]);
    corrupt[0] = 0x71;
    expect(() => readTarGz(gzipSync(corrupt), 1 << 20)).toThrow(/bad header checksum/);
    expect(() => readTarGz(archive(entry('p/big', Buffer.alloc(4096))), 2048)).toThrow(/unpacks to more than 2048 bytes/);
    expect(() => readTarGz(Buffer.from('plain'), 1 << 20)).toThrow(/not a gzip file/);
    expect(safeName('./p//plugin.toml')).toBe('p/plugin.toml');
  });
});

describe('lock file and mutex', () => {
  it('writes whole files, sorted, and reads them back; a corrupt one is an error naming it', async () => {
    const dir = temp();
    expect(await readLock(dir)).toBeNull();
    const lock = emptyLock();
    lock.plugins.b = { version: '1.0.0', kind: 'output', sha256: 'b'.repeat(64), source: '/x', source_type: 'folder', installed_at: 'now', store: '.store/b' };
    lock.plugins.a = { ...lock.plugins.b, sha256: 'a'.repeat(64), store: '.store/a' };
    lock.disabled = ['z', 'y', 'z'];
    await writeLock(dir, lock);
    const back = (await readLock(dir))!;
    expect(Object.keys(back.plugins)).toEqual(['a', 'b']);
    expect(back.disabled).toEqual(['y', 'z']);
    expect(readdirSync(dir)).toEqual(['plugins.lock']);
    writeFileSync(path.join(dir, 'plugins.lock'), '{"lockfile_version":1,"plugins":{"x":{"sha256":"nope"}}}');
    await expect(readLock(dir)).rejects.toThrow(/plugins\.lock: entry "x" is malformed/);
  });

  it('withMutex serialises read-modify-write: 20 concurrent increments all land', async () => {
    const dir = temp();
    await writeLock(dir, emptyLock());
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        withMutex(dir, async () => {
          const lock = (await readLock(dir))!;
          await new Promise((r) => setTimeout(r, Math.random() * 5));
          lock.disabled.push(`p${i}`);
          await writeLock(dir, lock);
        }),
      ),
    );
    expect((await readLock(dir))!.disabled).toHaveLength(20);
    expect(readdirSync(dir)).toEqual(['plugins.lock']);
  });

  it('a stale mutex (dead pid) is taken over; a live one is waited for, then reported', async () => {
    const dir = temp();
    writeFileSync(path.join(dir, MUTEX_FILE), JSON.stringify({ pid: 2 ** 22 + 7, host: os.hostname(), started: Date.now(), token: 't' }));
    expect(await withMutex(dir, async () => 'ran')).toBe('ran');
    writeFileSync(path.join(dir, MUTEX_FILE), JSON.stringify({ pid: process.pid, host: os.hostname(), started: Date.now(), token: 'live' }));
    let told = '';
    await expect(
      withMutex(
        dir,
        async () => 'never',
        (owner) => (told = owner),
        300,
      ),
    ).rejects.toThrow(/another rpr is changing the plugins in/);
    expect(told).toContain('"token":"live"');
  });
});

describe('signatures', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = `ed25519:${Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64')}`;
  const sha = 'c'.repeat(64);
  const perms = 'e'.repeat(64);
  const sig = (over = sha, key = pub, overPerms = perms) =>
    JSON.stringify({ algorithm: 'ed25519', key, sha256: over, permissions_sha256: overPerms, signature: sign(null, signedMessage(over, overPerms), privateKey).toString('base64') });

  it('trusted, untrusted, unsigned, and every way of not matching', () => {
    expect(checkSignature(sig(), sha, perms, [pub])).toEqual({ status: 'trusted', key: pub });
    expect(checkSignature(sig(), sha, perms, [pub.replace('ed25519:', '')])).toEqual({ status: 'trusted', key: pub });
    expect(checkSignature(sig(), sha, perms, [])).toEqual({ status: 'untrusted', key: pub });
    expect(checkSignature(null, sha, perms, [pub])).toEqual({ status: 'unsigned' });
    expect(checkSignature(sig(), 'd'.repeat(64), perms, [pub])).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/is for sha256 c+, the wasm is d+/) });
    const other = `ed25519:${Buffer.alloc(32, 7).toString('base64')}`;
    expect(checkSignature(sig(sha, other), sha, perms, [other])).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/does not verify/) });
    expect(checkSignature('{', sha, perms, [pub])).toMatchObject({ status: 'invalid', reason: 'plugin.sig is not JSON' });
    expect(checkSignature(JSON.stringify({ algorithm: 'rsa' }), sha, perms, [pub])).toMatchObject({ status: 'invalid' });
  });

  it('covers the permissions: a manifest asking for other permissions no longer verifies', () => {
    expect(checkSignature(sig(), sha, 'f'.repeat(64), [pub])).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/made for other permissions than plugin.toml asks for now/) });
    // A digest claimed in the file but not the one signed: the signature itself fails.
    const forged = JSON.stringify({ ...JSON.parse(sig()), permissions_sha256: 'f'.repeat(64) });
    expect(checkSignature(forged, sha, 'f'.repeat(64), [pub])).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/does not verify/) });
  });

  it('an older signature of the wasm alone is not enough', () => {
    const v1 = JSON.stringify({ algorithm: 'ed25519', key: pub, sha256: sha, signature: sign(null, Buffer.from(`rpr-plugin-sha256:${sha}`), privateKey).toString('base64') });
    expect(checkSignature(v1, sha, perms, [pub])).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/signs the wasm only .*sign it again with rpr plugins sign/) });
  });
});

describe('download limits', () => {
  let server: http.Server;
  let base = '';
  const ready = new Promise<void>((resolve) => {
    server = http.createServer((req, res) => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-length': '5000' });
        res.end(Buffer.alloc(5000));
      } else if (req.url === '/chunked') {
        res.writeHead(200);
        const timer = setInterval(() => res.write(Buffer.alloc(1000)), 5);
        res.on('close', () => clearInterval(timer));
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 2000);
      } else if (req.url === '/away') {
        res.writeHead(302, { location: 'http://example.com/x' });
        res.end();
      } else if (req.url === '/missing.sig') {
        res.writeHead(404);
        res.end();
      } else res.end('ok');
    });
    server.listen(0, '127.0.0.1', () => {
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve();
    });
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });
  const limits = { maxBytes: 2000, timeoutMs: 500, maxRedirects: 2 };

  it('size cap (declared and streamed), timeout, a redirect off this machine over http', async () => {
    await ready;
    expect((await download(`${base}/ok`, limits))!.bytes.toString()).toBe('ok');
    await expect(download(`${base}/big`, limits)).rejects.toThrow(/it is 5000 bytes, more than the 2000 bytes/);
    await expect(download(`${base}/chunked`, limits)).rejects.toThrow(/more than the 2000 bytes/);
    await expect(download(`${base}/slow`, limits)).rejects.toThrow(/timed out/);
    await expect(download(`${base}/away`, limits)).rejects.toThrow(/redirected to http:\/\/example\.com\/x: plain http is only allowed to this machine/);
    expect(await download(`${base}/missing.sig`, limits, true)).toBeNull();
    await expect(download(`${base}/missing.sig`, limits)).rejects.toThrow(/HTTP 404/);
  });
});

describe('permission changes', () => {
  const none: Permissions = { network: [], filesystem: {}, exec: [], execEnv: [], hostFunctions: [], memoryMb: 16, timeoutMs: 1000, emit: [], subscribe: [] };
  it('lists additions as wider and removals as not', () => {
    const changes = permissionChanges(none, { ...none, network: ['api.example.com'], memoryMb: 8, timeoutMs: 2000 });
    expect(changes).toEqual([
      { line: '+ network: api.example.com', wider: true },
      { line: '~ memory: 16 MB -> 8 MB', wider: false },
      { line: '~ call timeout: 1000 ms -> 2000 ms', wider: true },
    ]);
    expect(permissionChanges(none, none)).toEqual([]);
  });
});

// A symlinked folder inside an archive cannot even be expressed by the reader: only files survive.
it('symlinks on disk are not followed by the tar reader (it never touches the disk)', () => {
  const root = temp();
  mkdirSync(path.join(root, 'p'));
  symlinkSync('/etc', path.join(root, 'p', 'etc'));
  const file = path.join(temp(), 'p.tgz');
  execFileSync('tar', ['-czf', file, '-C', root, 'p']);
  expect(() => readTarGz(readFileSync(file), 1 << 20)).toThrow(/is a symbolic link/);
});
