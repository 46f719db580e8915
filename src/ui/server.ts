/**
 * The page of `rpr up` and its JSON API (docs/up.md): GET /api/jobs, /api/jobs/NAME/runs,
 * /api/events (Server-Sent Events: the jobs again whenever something changed), POST
 * /api/jobs/NAME/pause|resume|trigger, the page and its assets (shipped in the package).
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { send, sendJson, serve } from '../observe/listen.js';
import type { Supervisor } from '../up/supervisor.js';
import { jobsView } from '../up/view.js';
import { COOKIE, uiAuth } from './auth.js';

const ASSETS: Record<string, string> = {
  '/': 'index.html',
  '/assets/app.js': 'app.js',
  '/assets/app.css': 'app.css',
};
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
/** The page may load only its own files, and nothing may frame it. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};
/** Live updates are sent at most this often. */
const EVENT_INTERVAL_MS = 250;
const MAX_FORM_BYTES = 4096;

function asset(name: string): string {
  return readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > MAX_FORM_BYTES) throw new Error('too large');
  }
  return body;
}

export async function startUi(
  up: Supervisor,
  options: { port: number; addr: string; token?: string; noAuth: boolean },
): Promise<{ port: number; url: string; generatedToken?: string; close(): Promise<void> }> {
  const auth = uiAuth(options.addr, options.token, options.noAuth);
  const streams = new Set<ServerResponse>();
  let lastSent = '';
  const tick = setInterval(() => {
    if (streams.size === 0) return;
    const data = JSON.stringify(jobsView(up));
    if (data === lastSent) return;
    lastSent = data;
    for (const res of streams) res.write(`event: jobs\ndata: ${data}\n\n`);
  }, EVENT_INTERVAL_MS);
  tick.unref();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const url = new URL(req.url ?? '/', 'http://rpr');
    const method = req.method ?? 'GET';
    if (url.pathname === '/login' && method === 'POST') {
      const token = new URLSearchParams(await readBody(req)).get('token') ?? '';
      if (!auth.check(token)) return send(res, 401, 'text/plain; charset=utf-8', 'wrong token\n');
      res.setHeader('set-cookie', `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`);
      res.writeHead(303, { location: '/' });
      return void res.end();
    }
    if (method === 'GET' && ASSETS[url.pathname]) {
      const name = ASSETS[url.pathname]!;
      // Without the token (where reads need one) the page is its login form.
      const file = auth.mayRead(req) || name !== 'index.html' ? name : 'login.html';
      return send(res, file === 'login.html' ? 401 : 200, TYPES[file.split('.').pop()!]!, asset(file));
    }
    if (!url.pathname.startsWith('/api/')) return sendJson(res, 404, { error: 'not found' });
    if (!auth.mayRead(req)) return sendJson(res, 401, { error: 'token required: Authorization: Bearer TOKEN' });
    const parts = url.pathname.split('/').slice(2).map(decodeURIComponent);
    if (method === 'GET' && parts.length === 1 && parts[0] === 'jobs') return sendJson(res, 200, { jobs: jobsView(up), can_change: auth.canChange(req) });
    if (method === 'GET' && parts.length === 1 && parts[0] === 'events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`event: jobs\ndata: ${JSON.stringify(jobsView(up))}\n\n`);
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    const job = parts[0] === 'jobs' && parts[1] !== undefined ? up.jobs.get(parts[1]) : undefined;
    if (parts[0] === 'jobs' && parts.length >= 2 && !job) return sendJson(res, 404, { error: `no job "${parts[1]}"` });
    if (method === 'GET' && job && parts.length === 3 && parts[2] === 'runs') return sendJson(res, 200, { job: job.name, runs: up.history.runs(job.name) });
    if (job && parts.length === 3 && ['pause', 'resume', 'trigger'].includes(parts[2]!)) {
      if (method !== 'POST') {
        res.setHeader('allow', 'POST');
        return sendJson(res, 405, { error: 'use POST' });
      }
      if (!auth.mayChange(req)) return sendJson(res, 403, { error: 'changes need the token and the X-Rpr-Request: 1 header' });
      if (parts[2] === 'pause') job.pause();
      else if (parts[2] === 'resume') job.resume();
      else if (!job.trigger()) return sendJson(res, 409, { error: `job "${job.name}" is not running` });
      return sendJson(res, 200, { job: job.name, done: parts[2] });
    }
    return sendJson(res, 404, { error: 'not found' });
  };
  const listening = await serve('ui', options.addr, options.port, handle);
  return {
    port: listening.port,
    url: `http://${options.addr.includes(':') ? `[${options.addr}]` : options.addr}:${listening.port}/`,
    ...(auth.generated ? { generatedToken: auth.generated } : {}),
    close: async () => {
      clearInterval(tick);
      for (const res of streams) res.end();
      await listening.close();
    },
  };
}
