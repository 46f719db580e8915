// Shared by the plugin host tests: fixture paths and manifests, a log collector, local HTTP servers.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseManifest } from '../../src/plugins/manifest/parse.js';
import type { Permissions, PluginManifest } from '../../src/plugins/manifest/types.js';
import type { PluginError } from '../../src/plugins/errors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES_DIST = path.join(ROOT, 'test/plugins/fixtures/dist');

let built = false;
export function ensureFixtures(): void {
  if (built) return;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-fixtures.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  built = true;
}

/** A built fixture's manifest, optionally with other [permissions] (as if plugin.toml declared them). */
export function fixture(name: string, permissions: Partial<Permissions> = {}): PluginManifest {
  ensureFixtures();
  const file = path.join(FIXTURES_DIST, name, 'plugin.toml');
  const manifest = parseManifest(readFileSync(file, 'utf8'), file);
  return { ...manifest, permissions: { ...manifest.permissions, ...permissions } };
}

export interface Collected {
  logs: string[];
  denials: PluginError[];
  onLog: (level: string, message: string) => void;
  onDenied: (error: PluginError) => void;
}

export function collect(): Collected {
  const c: Collected = {
    logs: [],
    denials: [],
    onLog: (level, message) => void c.logs.push(`${level}: ${message}`),
    onDenied: (error) => void c.denials.push(error),
  };
  return c;
}

export interface TestServer {
  port: number;
  url: string;
  hits: string[];
  close: () => Promise<void>;
}

/** An HTTP server on 127.0.0.1 and a random port. */
export async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<TestServer> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Scheduler state with defaults; output_tail picks the hostile fixture's mode. */
export function state(overrides: Record<string, unknown> = {}) {
  return {
    run: 1,
    last_exit_code: 1,
    success: false,
    duration_ms: 5,
    consecutive_failures: 1,
    output_tail: '',
    now_ms: Date.now(),
    started_ms: Date.now() - 1000,
    ...overrides,
  };
}
