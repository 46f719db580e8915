import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rpr } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';
import { eventually, startUp } from '../helpers/up.js';

const dir = mkdtempSync(join(tmpdir(), 'rpr-upapi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TOKEN = 'test-token-0123456789abcdef';

const config = join(dir, 'api.toml');
writeFileSync(
  config,
  `[jobs.fast]
schedule = "interval"
every = "200ms"
command = ["sh", "-c", "echo '<script>alert(1)</script>'"]

[jobs.hourly]
schedule = "interval"
every = "1h"
delay_first = "1h"
command = ["sh", "-c", "echo triggered >> ${join(dir, 'hourly.out')}"]
`,
);

// biome-ignore lint/suspicious/noExplicitAny: each test reads the JSON shape it asked for
async function call(port: number, path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // the page, not JSON
  }
  return { status: res.status, body };
}

describe('rpr up --ui-port: the JSON API and who may use it', () => {
  it('on 0.0.0.0 without a token it refuses to start, in one line, exit 2', async () => {
    const r = await rpr(['up', '--config', config, '--ui-port', '0', '--ui-addr', '0.0.0.0']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/needs a token there/);
    const noAuth = await rpr(['up', '--config', config, '--ui-port', '0', '--ui-addr', '0.0.0.0', '--ui-token', TOKEN, '--ui-no-auth']);
    expect(noAuth.code).toBe(2);
    expect(noAuth.stderr).toMatch(/--ui-no-auth only applies on a loopback/);
  });

  it('on 0.0.0.0 with a token: reads and changes need it, changes the CSRF header too; pause, resume, trigger work', async () => {
    const port = await freePort();
    const up = startUp(['--config', config, '--ui-port', String(port), '--ui-addr', '0.0.0.0'], { RPR_UI_TOKEN: TOKEN });
    const bearer = { authorization: `Bearer ${TOKEN}` };
    try {
      await up.waitFor(/rpr: up: 2 jobs/);
      expect((await call(port, '/api/jobs')).status).toBe(401);
      expect((await call(port, '/api/jobs', { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
      // The page itself is the login form without the token.
      const page = await call(port, '/');
      expect(page.status).toBe(401);
      expect(page.body).toMatch(/<form method="post" action="\/login">/);
      const jobs = await call(port, '/api/jobs', { headers: bearer });
      expect(jobs.status).toBe(200);
      expect(jobs.body.jobs.map((j: { name: string }) => j.name)).toEqual(['fast', 'hourly']);
      expect(jobs.body.can_change).toBe(true);

      // No state change on GET; none without the custom header (a cross-site form cannot send it).
      expect((await call(port, '/api/jobs/fast/pause', { headers: bearer })).status).toBe(405);
      expect((await call(port, '/api/jobs/fast/pause', { method: 'POST', headers: bearer })).status).toBe(403);
      expect((await call(port, '/api/jobs/fast/pause', { method: 'POST', headers: { 'x-rpr-request': '1' } })).status).toBe(401);
      const runs = async (): Promise<number> => (await call(port, '/api/jobs', { headers: bearer })).body.jobs[0].runs;
      await eventually(runs, (n) => n >= 2);
      const paused = await call(port, '/api/jobs/fast/pause', { method: 'POST', headers: { ...bearer, 'x-rpr-request': '1' } });
      expect(paused.status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      const atPause = await runs();
      await new Promise((r) => setTimeout(r, 1000));
      expect(await runs()).toBe(atPause);
      expect((await call(port, '/api/jobs', { headers: bearer })).body.jobs[0].status).toBe('paused');
      expect((await call(port, '/api/jobs/fast/resume', { method: 'POST', headers: { ...bearer, 'x-rpr-request': '1' } })).status).toBe(200);
      await eventually(runs, (n) => n >= atPause + 2);

      // Trigger: the hourly job's run (due in an hour) starts now.
      expect((await call(port, '/api/jobs/hourly/trigger', { method: 'POST', headers: { ...bearer, 'x-rpr-request': '1' } })).status).toBe(200);
      await eventually(
        () => {
          try {
            return readFileSync(join(dir, 'hourly.out'), 'utf8');
          } catch {
            return '';
          }
        },
        (text) => text === 'triggered\n',
      );
      expect((await call(port, '/api/jobs/nope/trigger', { method: 'POST', headers: { ...bearer, 'x-rpr-request': '1' } })).status).toBe(404);

      // Runs with their output, as text: the JSON carries it, the page shows it escaped.
      const history = await call(port, '/api/jobs/fast/runs', { headers: bearer });
      expect(history.body.runs.at(-1).tail).toBe('<script>alert(1)</script>\n');
      expect(history.body.runs.at(-1).outcome).toBe('ok');

      // The login form sets a SameSite=Strict, HttpOnly cookie that then works like the bearer.
      const login = await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
      expect(login.status).toBe(303);
      const cookie = login.headers.get('set-cookie')!;
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      expect((await call(port, '/api/jobs', { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST', body: new URLSearchParams({ token: 'nope' }), redirect: 'manual' })).status).toBe(401);
    } finally {
      await up.stop();
    }
  }, 60_000);

  it('on loopback reads are open, changes need the printed token unless --ui-no-auth', async () => {
    const port = await freePort();
    const up = startUp(['--config', config, '--ui-port', String(port)]);
    try {
      const [, token] = await up.waitFor(/token for its controls: (\S+)\)/);
      expect((await call(port, '/api/jobs')).status).toBe(200);
      expect((await call(port, '/api/jobs')).body.can_change).toBe(false);
      expect((await call(port, '/api/jobs/fast/pause', { method: 'POST', headers: { 'x-rpr-request': '1' } })).status).toBe(403);
      expect((await call(port, '/api/jobs/fast/pause', { method: 'POST', headers: { 'x-rpr-request': '1', authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      await up.stop();
    }
    const port2 = await freePort();
    const open = startUp(['--config', config, '--ui-port', String(port2), '--ui-no-auth']);
    try {
      await open.waitFor(/rpr: page at http:\/\/127\.0\.0\.1:\d+\/\n/);
      expect((await call(port2, '/api/jobs/fast/pause', { method: 'POST', headers: { 'x-rpr-request': '1' } })).status).toBe(200);
      // Still no change without the header, even with no auth.
      expect((await call(port2, '/api/jobs/fast/resume', { method: 'POST' })).status).toBe(403);
    } finally {
      await open.stop();
    }
  }, 60_000);

  it('--history FILE: JSON lines kept across a restart; a torn last line is skipped', async () => {
    const file = join(dir, 'history.jsonl');
    const port = await freePort();
    const first = startUp(['--config', config, '--only', 'fast', '--history', file, '--ui-port', String(port), '--ui-no-auth']);
    await first.waitFor(/rpr: up: 1 job/);
    await eventually(
      async () => (await call(port, '/api/jobs')).body.jobs?.[0]?.runs ?? 0,
      (n) => n >= 3,
    );
    await first.stop();
    const kept = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(kept.length).toBeGreaterThanOrEqual(3);
    // A slot skipped under load (the previous run still going) is kept too, as run 0.
    expect(kept.every((r) => r.job === 'fast' && (r.run >= 1 || r.outcome === 'skipped'))).toBe(true);
    // (A run the shutdown itself stopped may be recorded as failed.)
    expect(kept.filter((r) => r.outcome === 'ok').length).toBeGreaterThanOrEqual(3);
    appendFileSync(file, '{"job":"fast","run":99,"outc');
    const second = startUp(['--config', config, '--only', 'fast', '--history', file, '--ui-port', String(port), '--ui-no-auth']);
    try {
      await second.waitFor(/--history .*: 1 unreadable line skipped/);
      await second.waitFor(/rpr: up: 1 job/);
      const runs = (await call(port, '/api/jobs/fast/runs')).body.runs;
      expect(runs.length).toBeGreaterThanOrEqual(kept.length);
      expect(runs.slice(0, kept.length)).toEqual(kept);
      await eventually(
        () => readFileSync(file, 'utf8').trim().split('\n').length,
        (n) => n >= kept.length + 2,
      );
      // The torn line did not swallow the next record.
      const after = readFileSync(file, 'utf8').trim().split('\n');
      expect(after.filter((l) => l.startsWith('{"job":"fast","run":99')).every((l) => l === '{"job":"fast","run":99,"outc')).toBe(true);
      expect(() => JSON.parse(after.at(-1)!)).not.toThrow();
    } finally {
      await second.stop();
    }
  }, 60_000);
});
