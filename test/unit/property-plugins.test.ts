// Property-based (issue 7): what plugins hand the host. plugin.toml manifests (the bundled ones with
// small edits, documents of known keys with values of any type, random text) and the JSON answers
// of describe/next/plan/deliver (random bytes, any JSON, valid answers with one field changed).
// Each is either accepted - and then within the contract - or refused with a PluginError naming
// the plugin (a ManifestError naming the file): never another exception or a hang.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'smol-toml';
import { afterAll, describe, expect, it } from 'vitest';
import { anyText, holds, mutated, RUNS, Sandbox, type Answer } from '../helpers/property.js';

const box = new Sandbox();
afterAll(() => box.close());

const LIMIT_MS = 3000;
const testTimeout = Math.max(30_000, RUNS * 400);
const ROOT = path.resolve(import.meta.dirname, '../..');
const MANIFESTS = [
  ...readdirSync(path.join(ROOT, 'plugins-dist')).map((d) => path.join(ROOT, 'plugins-dist', d, 'plugin.toml')),
  ...['good-scheduler', 'hostile', 'sink', 'executor'].map((d) => path.join(ROOT, 'test/plugins/fixtures', d, 'plugin.toml')),
].flatMap((file) => {
  try {
    return [readFileSync(file, 'utf8').replace('@SHA256@', 'a'.repeat(64))];
  } catch {
    return [];
  }
});

function expectPluginError(a: Answer, input: unknown, failures: string[]): void {
  if (a.ok) return;
  const e = a.error;
  expect(e.rpr, `${JSON.stringify(input)?.slice(0, 300)}: ${e.name}: ${e.message}\n${e.stack}`).toBe(true);
  expect(['E_PLUGIN', 'E_PLUGIN_DENIED']).toContain(e.code);
  expect(failures, `${e.failure}: ${e.message}`).toContain(e.failure);
  expect(e.line).not.toMatch(/[\u0000-\u001f\u007f]/);
}

describe('plugin.toml', () => {
  interface Manifest {
    name: string;
    kind: string;
    version: string;
    wasm: string;
    permissions: { memoryMb: number; timeoutMs: number; exec: string[]; network: string[]; filesystem: Record<string, string> };
  }

  function expectManifest(a: Answer<Manifest>, text: string): void {
    if (!a.ok) {
      expect(a.error.rpr, `${a.error.name}: ${a.error.message}\n${a.error.stack}\n--- plugin.toml:\n${text}`).toBe(true);
      expect(a.error.name).toBe('ManifestError');
      expect(a.error.code).toBe('E_PLUGIN');
      expect(a.error.message.startsWith('/plugins/p/plugin.toml: '), a.error.message).toBe(true);
      expect(a.error.line).not.toMatch(/[\u0000-\u001f\u007f]/);
      return;
    }
    const m = a.value;
    expect(m.name).toMatch(/^[a-z][a-z0-9-]{0,63}$/);
    expect(['scheduler', 'executor', 'output']).toContain(m.kind);
    // The wasm stays inside the plugin's directory, whatever runtime.wasm says.
    expect(m.wasm.startsWith('/plugins/p/'), m.wasm).toBe(true);
    expect(path.normalize(m.wasm)).toBe(m.wasm);
    expect(Number.isInteger(m.permissions.memoryMb) && m.permissions.memoryMb >= 1).toBe(true);
    expect(Number.isInteger(m.permissions.timeoutMs) && m.permissions.timeoutMs >= 1).toBe(true);
    for (const guest of Object.keys(m.permissions.filesystem)) expect(guest.split('/')).not.toContain('..');
  }

  it('every bundled and fixture manifest parses as it is', async () => {
    for (const text of MANIFESTS) expect((await box.call<Manifest>('manifest', [text], LIMIT_MS)).ok, text).toBe(true);
  });

  it(
    'bundled manifests with small edits: a manifest within the contract, or a ManifestError naming the file',
    async () => {
      await holds(
        fc.asyncProperty(mutated(fc.constantFrom(...MANIFESTS), '[]="\'#.,\n{}=0123456789 abcz-_/.\\\u0000'), async (text) => {
          expectManifest(await box.call<Manifest>('manifest', [text], LIMIT_MS), text);
        }),
      );
    },
    testTimeout,
  );

  const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      anyText(20),
      fc.constantFrom(
        'x',
        'scheduler',
        'output',
        '1.0.0',
        '../../etc/passwd',
        '/abs.wasm',
        'plugin.wasm',
        'a/../../b.wasm',
        'a'.repeat(64),
        'duration',
        'time',
        'docker',
        '/bin/sh',
        '127.0.0.1:80',
        '*',
        '/data',
      ),
      fc.integer(),
      fc.integer({ min: -1, max: 5000 }),
      fc.double(),
      fc.boolean(),
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom('type', 'default', 'help', 'values', 'required', 'aliases', '/guest', '/../x', 'x'), tie('v'), { maxKeys: 3 }),
    ),
  })).v;
  const section = (keys: string[]) => fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: keys.length });
  const doc = fc.record(
    {
      plugin: section(['name', 'version', 'kind', 'description', 'author', 'extra']),
      runtime: section(['wasm', 'sha256', 'abi']),
      config: fc.dictionary(fc.oneof(fc.constantFrom('initial', 'rate', 'url', 'max-delay'), anyText(8)), value, { maxKeys: 3 }),
      dependencies: section(['min_rpr_version', 'other']),
      permissions: section(['network', 'filesystem', 'exec', 'host_functions', 'memory_mb', 'timeout_ms', 'emit', 'subscribe', 'nope']),
      other: value,
    },
    { requiredKeys: [] },
  );

  it(
    'documents of known keys holding values of any type: a manifest within the contract, or a ManifestError',
    async () => {
      await holds(
        fc.asyncProperty(doc, async (object) => {
          let text: string;
          try {
            text = stringify(object);
          } catch {
            return;
          }
          expectManifest(await box.call<Manifest>('manifest', [text], LIMIT_MS), text);
        }),
      );
    },
    testTimeout,
  );

  it(
    'random text: a ManifestError naming the file',
    async () => {
      await holds(
        fc.asyncProperty(anyText(200), async (text) => {
          expectManifest(await box.call<Manifest>('manifest', [text], LIMIT_MS), text);
        }),
      );
    },
    testTimeout,
  );
});

describe('answers of plugins (untrusted JSON)', () => {
  const json = fc.jsonValue({ maxDepth: 3 });
  /** A valid answer with one field replaced by any JSON value, or removed. */
  function nearValid(valid: Record<string, unknown>[]): fc.Arbitrary<unknown> {
    return fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.option(json, { nil: undefined }), fc.option(fc.string({ maxLength: 6 }), { nil: undefined })).map(([base, at, replacement, extraKey]) => {
      const out: Record<string, unknown> = { ...base };
      const keys = Object.keys(out);
      const key = extraKey ?? keys[at % keys.length]!;
      if (replacement === undefined) delete out[key];
      else out[key] = replacement;
      return out;
    });
  }
  const boundary = fc.constantFrom<unknown>(
    null,
    0,
    -0,
    '',
    [],
    {},
    true,
    'run',
    { action: 'run' },
    { action: 'run', delay_ms: -0 },
    { action: 'run', delay_ms: 1e308 },
    { action: 'run', delay_ms: -1e-9 },
    { action: 'run', delay_ms: Number.MAX_SAFE_INTEGER + 2 },
    { action: 'stop', reason: '', exit_code: 256 },
    { action: 'stop', reason: 'x', exit_code: -1 },
    { action: 'stop', reason: 'x', exit_code: 2.5 },
    { action: 'stop', reason: 'x', exit_code: null },
  );

  const DECISIONS = [
    { action: 'run', delay_ms: 100 },
    { action: 'run', delay_ms: 0, message: 'next in 0ms' },
    { action: 'stop', reason: 'done' },
    { action: 'stop', reason: 'gave up', exit_code: 3, message: 'bye' },
  ];

  it(
    'next: a decision within the contract (delay >= 0, exit 0-255, one short printable message), or malformed',
    async () => {
      await holds(
        fc.asyncProperty(
          fc.oneof(
            json,
            nearValid(DECISIONS),
            boundary,
            fc.record(
              { action: fc.constantFrom('run', 'stop'), delay_ms: fc.double(), reason: fc.string(), exit_code: fc.oneof(fc.integer({ min: -5, max: 300 }), fc.double()), message: anyText(400) },
              { requiredKeys: ['action'] },
            ),
          ),
          async (v) => {
            const a = await box.call<{ action: string; delay_ms?: number; exit_code?: number; reason?: string; message?: string }>('decision', [v], LIMIT_MS);
            expectPluginError(a, v, ['malformed']);
            if (!a.ok) return;
            const d = a.value;
            if (d.action === 'run') expect(Number.isFinite(d.delay_ms) && d.delay_ms! >= 0, JSON.stringify(d)).toBe(true);
            else {
              expect(d.action).toBe('stop');
              expect(typeof d.reason).toBe('string');
              if (d.exit_code !== undefined) expect(Number.isInteger(d.exit_code) && d.exit_code >= 0 && d.exit_code <= 255).toBe(true);
            }
            if (d.message !== undefined) {
              expect(d.message.length).toBeLessThanOrEqual(300);
              expect(d.message).not.toMatch(/[\u0000-\u001f\u007f]/);
            }
          },
        ),
      );
    },
    testTimeout,
  );

  const PLANS = [
    { argv: ['docker', 'run', 'alpine', 'true'], env: {}, cwd: '/' },
    { argv: ['ssh', 'host', 'uptime'], env: { A: 'b' }, cwd: '/tmp' },
  ];

  it(
    'plan: argv of strings with a program, env of strings, a cwd; or malformed',
    async () => {
      await holds(
        fc.asyncProperty(fc.oneof(json, nearValid(PLANS), boundary), async (v) => {
          const a = await box.call<{ argv: string[]; env: Record<string, string>; cwd: string }>('plan', [v], LIMIT_MS);
          expectPluginError(a, v, ['malformed']);
          if (!a.ok) return;
          expect(a.value.argv.length).toBeGreaterThan(0);
          expect(a.value.argv.every((s) => typeof s === 'string')).toBe(true);
          expect(a.value.argv[0]).not.toBe('');
          expect(typeof a.value.cwd).toBe('string');
          expect(Object.values(a.value.env).every((s) => typeof s === 'string')).toBe(true);
        }),
      );
    },
    testTimeout,
  );

  it(
    "deliver/init acks: ok, or the plugin's own error, or malformed",
    async () => {
      await holds(
        fc.asyncProperty(fc.oneof(json, nearValid([{ ok: true }, { ok: false, error: 'down' }]), boundary, fc.constant(undefined)), async (v) => {
          const a = await box.call<{ ok: boolean }>('ack', [v], LIMIT_MS);
          expectPluginError(a, v, ['malformed', 'plugin-error']);
          if (a.ok) expect(a.value.ok).toBe(true);
        }),
      );
    },
    testTimeout,
  );

  const DESCRIPTIONS = [{ name: 'x', version: '1.0.0', kind: 'scheduler', abi: 1, config: {} }];

  it(
    'describe: a description with a known kind, or malformed',
    async () => {
      await holds(
        fc.asyncProperty(fc.oneof(json, nearValid(DESCRIPTIONS), boundary), async (v) => {
          const a = await box.call<{ kind: string; config: unknown }>('description', [v], LIMIT_MS);
          expectPluginError(a, v, ['malformed']);
          if (a.ok) {
            expect(['scheduler', 'executor', 'output']).toContain(a.value.kind);
            expect(typeof a.value.config).toBe('object');
          }
        }),
      );
    },
    testTimeout,
  );

  it(
    'the raw bytes of an answer: JSON, or too-large / malformed (not UTF-8, not JSON)',
    async () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v) ?? '')),
        mutated(fc.constantFrom(...DECISIONS.map((d) => JSON.stringify(d))), '{}[]":,\\0123456789e-+.\u0000').map((s) => new TextEncoder().encode(s)),
        fc.constantFrom(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), new Uint8Array([0xc0, 0x80]), new Uint8Array([0xed, 0xa0, 0x80]), new Uint8Array(0)),
        fc.constant(null),
      );
      await holds(
        fc.asyncProperty(bytes, async (b) => {
          const a = await box.call('answer', ['next', b === null ? null : [...b]], LIMIT_MS);
          expectPluginError(a, b, ['malformed', 'too-large']);
        }),
      );
      // The size limit, exactly: 1 MiB is fine, one byte more is not.
      const limit = 1 << 20;
      const at = (n: number) => [...new TextEncoder().encode(`"${'x'.repeat(n - 2)}"`)];
      expect(await box.call('answer', ['next', at(limit)], LIMIT_MS)).toMatchObject({ ok: true });
      expect(await box.call('answer', ['next', at(limit + 1)], LIMIT_MS)).toMatchObject({ ok: false, error: { failure: 'too-large' } });
    },
    testTimeout,
  );
});
