/**
 * Helpers for the plugin management tests (rpr plugins install/update/...): plugin source folders
 * made from the built test fixtures, the plugin directory's lock file, and a loopback HTTPS server
 * with a self-signed certificate (made with openssl) that rpr trusts through NODE_EXTRA_CA_CERTS.
 * Temporary folders are removed by core-helpers' cleanup().
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ensureFixtures, FIXTURES_DIST } from '../plugins/helpers.js';
import { tempDir } from './core-helpers.js';

/** A fresh folder holding a built fixture's plugin.toml and plugin.wasm: something to install. */
export function sourceFolder(fixture: string): string {
  ensureFixtures();
  const dir = path.join(tempDir(), fixture);
  for (const file of ['plugin.toml', 'plugin.wasm']) cpSync(path.join(FIXTURES_DIST, fixture, file), path.join(dir, file));
  return dir;
}

/** Replaces a source folder's plugin with another fixture's build (as a new release would). */
export function replaceWith(dir: string, fixture: string, edit: (toml: string) => string = (t) => t): void {
  cpSync(path.join(FIXTURES_DIST, fixture, 'plugin.wasm'), path.join(dir, 'plugin.wasm'));
  writeFileSync(path.join(dir, 'plugin.toml'), edit(readFileSync(path.join(FIXTURES_DIST, fixture, 'plugin.toml'), 'utf8')));
}

/** An empty plugin directory (RPR_PLUGIN_DIR) and the environment for rpr. */
export function pluginHome(): { dir: string; env: Record<string, string> } {
  const dir = tempDir();
  return { dir, env: { RPR_PLUGIN_DIR: dir } };
}

export interface LockJson {
  lockfile_version: number;
  plugins: Record<string, { version: string; sha256: string; source: string; source_type: string; pinned?: string; signed_by?: string; store: string }>;
  disabled: string[];
}

export const readLockJson = (dir: string): LockJson => JSON.parse(readFileSync(path.join(dir, 'plugins.lock'), 'utf8')) as LockJson;

/** A .tar.gz of `folder` (as one top-level folder), made with the system's tar. */
export function tarGz(folder: string): string {
  const out = path.join(tempDir(), `${path.basename(folder)}.tar.gz`);
  execFileSync('tar', ['-czf', out, '-C', path.dirname(folder), path.basename(folder)]);
  return out;
}

export interface Server {
  url: string;
  /** The CA file rpr must trust (NODE_EXTRA_CA_CERTS); undefined for plain http. */
  ca: string | undefined;
  tls: boolean;
  hits: string[];
  close(): Promise<void>;
}

/** Whether `openssl` can make a certificate here; without it the tests use http on 127.0.0.1. */
export const HAVE_OPENSSL = spawnSync('openssl', ['version']).status === 0;

function selfSignedCert(): { key: string; cert: string; ca: string } {
  const dir = tempDir();
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8'), ca: cert };
}

/** A server on 127.0.0.1: https with a self-signed certificate when openssl is there, else http. */
export async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void, tls = HAVE_OPENSSL): Promise<Server> {
  const hits: string[] = [];
  const wrapped = (req: http.IncomingMessage, res: http.ServerResponse) => {
    hits.push(req.url ?? '');
    handler(req, res);
  };
  let ca: string | undefined;
  let server: http.Server;
  if (tls) {
    const made = selfSignedCert();
    ca = made.ca;
    server = https.createServer({ key: made.key, cert: made.cert }, wrapped);
  } else server = http.createServer(wrapped);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    ca,
    tls,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serves files: path -> bytes (404 otherwise); `redirects` maps a path to a Location. */
export function files(map: Record<string, Buffer>, redirects: Record<string, string> = {}): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    const url = req.url ?? '';
    if (redirects[url]) {
      res.writeHead(302, { location: redirects[url] });
      res.end();
    } else if (map[url]) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(map[url]);
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  };
}

export const exists = (...parts: string[]): boolean => existsSync(path.join(...parts));
