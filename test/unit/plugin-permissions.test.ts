// Effective permissions = (manifest ∩ narrowing) ∪ grants, and the host:port patterns they use.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Permissions } from '../../src/plugins/manifest/types.js';
import { effectivePermissions } from '../../src/plugins/permissions/effective.js';
import { intersectPatterns, matchesUrl, parseNetworkPattern, type NetworkPattern } from '../../src/plugins/permissions/network.js';

const manifest: Permissions = {
  network: ['hooks.slack.com', '*.example.com:*', '127.0.0.1:8080'],
  filesystem: { '/data': '/srv/data' },
  exec: ['docker', 'ssh'],
  execEnv: [],
  hostFunctions: ['time', 'random'],
  memoryMb: 32,
  timeoutMs: 1000,
  emit: ['a'],
  subscribe: ['b'],
};

const p = (text: string) => parseNetworkPattern(text) as NetworkPattern;
const allows = (pattern: string, url: string) => matchesUrl(p(pattern), new URL(url));

describe('network patterns', () => {
  it('host without port: the scheme default port only', () => {
    expect(allows('example.com', 'https://example.com/x')).toBe(true);
    expect(allows('example.com', 'http://example.com/x')).toBe(true);
    expect(allows('example.com', 'https://example.com:8443/x')).toBe(false);
    expect(allows('example.com', 'https://api.example.com/x')).toBe(false);
  });
  it('host:port, host:*, *.domain, IPv6', () => {
    expect(allows('127.0.0.1:8080', 'http://127.0.0.1:8080/')).toBe(true);
    expect(allows('127.0.0.1:8080', 'http://127.0.0.1:8081/')).toBe(false);
    expect(allows('127.0.0.1:*', 'http://127.0.0.1:9/')).toBe(true);
    expect(allows('*.example.com', 'https://a.b.example.com/')).toBe(true);
    expect(allows('*.example.com', 'https://example.com/')).toBe(false);
    expect(allows('*.example.com', 'https://badexample.com/')).toBe(false);
    expect(allows('[::1]:8080', 'http://[::1]:8080/')).toBe(true);
    expect(allows('EXAMPLE.com', 'https://example.COM/')).toBe(true);
  });
  it('only http and https', () => {
    expect(allows('example.com:*', 'ftp://example.com/')).toBe(false);
    expect(allows('example.com:*', 'ws://example.com/')).toBe(false);
  });
  it('rejects what is not a pattern', () => {
    for (const bad of ['', 'http://x.com', 'x.com:0', 'x.com:70000', 'a b', '*', '*.', 'x.*.com', 'x.com/path']) {
      expect(typeof parseNetworkPattern(bad), bad).toBe('string');
    }
  });
  it('an intersection admits exactly what both admit (property)', () => {
    const host = fc.constantFrom('a.example.com', 'example.com', 'b.a.example.com', 'other.org');
    const pattern = fc.tuple(fc.constantFrom('example.com', '*.example.com', 'a.example.com', '*.a.example.com', 'other.org'), fc.constantFrom('', ':80', ':443', ':8080', ':*'));
    fc.assert(
      fc.property(pattern, pattern, host, fc.constantFrom('http', 'https'), fc.constantFrom('', ':80', ':443', ':8080'), ([h1, p1], [h2, p2], h, scheme, port) => {
        const a = p(h1 + p1);
        const b = p(h2 + p2);
        const url = new URL(`${scheme}://${h}${port}/`);
        const both = intersectPatterns(a, b);
        const expected = matchesUrl(a, url) && matchesUrl(b, url);
        // A "default" port and an explicit 80/443 are kept apart (never widened), so the
        // intersection may admit less, never more.
        if (both) expect(matchesUrl(both, url) && !expected).toBe(false);
        if (expected && p1 === p2) expect(both && matchesUrl(both, url)).toBe(true);
      }),
    );
  });
});

describe('effectivePermissions', () => {
  it('no user input: the manifest', () => {
    expect(effectivePermissions(manifest)).toEqual(manifest);
  });

  it('narrowing keeps only what both allow', () => {
    const e = effectivePermissions(manifest, {
      narrow: {
        network: ['api.example.com:443', '127.0.0.1:9090', 'evil.com'],
        filesystem: { '/data': '/srv/data/sub', '/etc': '/etc' },
        exec: ['ssh', 'rm'],
        hostFunctions: ['time', 'emit'],
        memoryMb: 64,
        timeoutMs: 200,
        emit: [],
      },
    });
    expect(e).toEqual({
      network: ['api.example.com:443'],
      filesystem: { '/data': '/srv/data/sub' },
      exec: ['ssh'],
      execEnv: [],
      hostFunctions: ['time'],
      memoryMb: 32,
      timeoutMs: 200,
      emit: [],
      subscribe: ['b'],
    });
  });

  it('a narrowing filesystem path outside the manifest one is dropped, not granted', () => {
    expect(effectivePermissions(manifest, { narrow: { filesystem: { '/data': '/srv' } } }).filesystem).toEqual({});
  });

  it('explicit grants add; nothing else ever appears', () => {
    const e = effectivePermissions(manifest, {
      narrow: { network: [] },
      grant: { network: ['127.0.0.1:9999'], exec: ['rm'], hostFunctions: ['system-load'], memoryMb: 128, timeoutMs: 10, filesystem: { '/tmp': '/tmp/x' } },
    });
    expect(e.network).toEqual(['127.0.0.1:9999']);
    expect(e.exec).toEqual(['docker', 'ssh', 'rm']);
    expect(e.hostFunctions).toEqual(['time', 'random', 'system-load']);
    expect(e.memoryMb).toBe(128);
    expect(e.timeoutMs).toBe(1000);
    expect(e.filesystem).toEqual({ '/data': '/srv/data', '/tmp': '/tmp/x' });
  });

  it('never more than manifest + grant (property)', () => {
    const list = (xs: string[]) => fc.subarray(xs);
    const hosts = ['a.com', 'b.com', '127.0.0.1:1', '*.c.com'];
    fc.assert(
      fc.property(list(hosts), list(hosts), list(hosts), list(['x', 'y', 'z']), list(['x', 'y', 'z']), list(['x', 'y', 'z']), (m, n, g, me, ne, ge) => {
        const e = effectivePermissions({ ...manifest, network: m, exec: me }, { narrow: { network: n, exec: ne }, grant: { network: g, exec: ge } });
        for (const x of e.exec) expect(me.includes(x) || ge.includes(x)).toBe(true);
        for (const x of e.network) expect(m.includes(x) || g.includes(x) || hosts.includes(x)).toBe(true);
        for (const x of e.network) if (!g.includes(x)) expect(m.some((y) => intersectPatterns(p(y), p(x)))).toBe(true);
      }),
    );
  });
});
