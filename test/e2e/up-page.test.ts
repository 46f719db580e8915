import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/redis-server.js';
import { eventually, startUp, type UpProcess } from '../helpers/up.js';

/** Debian's chromium (CI installs it); puppeteer-core downloads no browser of its own. */
const CHROMIUM = process.env.RPR_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`skipping the page tests of rpr up: no browser at ${CHROMIUM} (apt-get install chromium, or set RPR_CHROMIUM)`);
/** Kept by CI as an artefact. */
const OUTPUT = fileURLToPath(new URL('../../test-output/', import.meta.url));
const TOKEN = 'page-token-0123456789abcdef';

const dir = mkdtempSync(join(tmpdir(), 'rpr-uppage-'));
const config = join(dir, 'page.toml');
writeFileSync(
  config,
  `[jobs.chatty]
schedule = "interval"
every = "300ms"
command = ["sh", "-c", "echo '<img src=x onerror=\\"window.pwned=1\\"><script>window.pwned=2</script>'"]

[jobs.hourly]
schedule = "interval"
every = "1h"
delay_first = "1h"
command = ["sh", "-c", "echo ran >> ${join(dir, 'hourly.out')}"]

[jobs.nightly]
schedule = "cron"
cron = "0 3 * * *"
command = ["true"]
`,
);

// Chromium on two loaded cores: a page's first paint alone has taken over 20 s beside the rest of the suite.
describe.skipIf(!HAVE_CHROMIUM)('the page of rpr up, in headless chromium', { timeout: 60_000 }, () => {
  let browser: Browser;
  let up: UpProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    up = startUp(['--config', config, '--ui-port', String(port), '--ui-no-auth']);
    await up.waitFor(/rpr: up: 3 jobs/);
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await up?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders the jobs, updates live without a reload, and shows output as text', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // Nothing may come from anywhere but rpr itself (no CDN).
    const foreign: string[] = [];
    page.on('request', (r) => void (r.url().startsWith(`http://127.0.0.1:${port}/`) ? undefined : foreign.push(r.url())));
    await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load' });
    await page.waitForSelector('#jobs tbody tr');
    const names = await page.$$eval('#jobs tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.job));
    expect(names).toEqual(['chatty', 'hourly', 'nightly']);
    expect(await page.$eval('#jobs tbody tr[data-job="nightly"] td:nth-child(3)', (td) => td.textContent)).toBe('cron "0 3 * * *" in UTC');
    // A run appears live: more cells in chatty's strip, with no navigation.
    const cells = (): Promise<number> => page.$$eval('tr[data-job="chatty"] .cell', (c) => c.length);
    const before = await cells();
    await page.waitForFunction((n) => document.querySelectorAll('tr[data-job="chatty"] .cell').length > n, { timeout: 10_000 }, before);
    expect(await page.$eval('#link', (e) => e.textContent)).toBe('live');
    // The selected run's output: the markup is text, nothing ran.
    await page.click('tr[data-job="chatty"]');
    await page.waitForFunction(() => (document.getElementById('output')?.textContent ?? '').includes('<script>'));
    expect(await page.$eval('#output', (e) => e.textContent)).toBe('<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>\n');
    expect(await page.$eval('#output', (e) => e.children.length)).toBe(0);
    expect(await page.$eval('#detail-title', (e) => e.textContent)).toMatch(/^chatty: run \d+ \(ok, exit 0\)$/);
    await new Promise((r) => setTimeout(r, 300));
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'up-page.png'), fullPage: true });
    expect(readFileSync(join(OUTPUT, 'up-page.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('pause, resume and trigger through the page', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('tr[data-job="chatty"] button[data-action="pause"]');
    await page.click('tr[data-job="chatty"] button[data-action="pause"]');
    await page.waitForFunction(() => document.querySelector('tr[data-job="chatty"] td:nth-child(2)')?.textContent === 'paused');
    const api = async (): Promise<{ name: string; paused: boolean; runs: number }[]> => (await (await fetch(`http://127.0.0.1:${port}/api/jobs`)).json()).jobs;
    expect((await api()).find((j) => j.name === 'chatty')!.paused).toBe(true);
    await page.click('tr[data-job="chatty"] button[data-action="resume"]');
    await page.waitForFunction(() => document.querySelector('tr[data-job="chatty"] td:nth-child(2)')?.textContent === 'running');
    await page.click('tr[data-job="hourly"] button[data-action="trigger"]');
    await eventually(
      () => (existsSync(join(dir, 'hourly.out')) ? readFileSync(join(dir, 'hourly.out'), 'utf8') : ''),
      (t) => t === 'ran\n',
    );
    await page.close();
  }, 60_000);

  it('on a non-loopback bind, the page without the token is a login form and the API refuses it', async () => {
    const port2 = await freePort();
    const guarded = startUp(['--config', config, '--ui-port', String(port2), '--ui-addr', '0.0.0.0', '--ui-token', TOKEN]);
    try {
      await guarded.waitFor(/rpr: up: 3 jobs/);
      const page = await browser.newPage();
      const response = await page.goto(`http://127.0.0.1:${port2}/`);
      expect(response!.status()).toBe(401);
      expect(await page.$('#jobs')).toBeNull();
      const status = await page.evaluate(async () => (await fetch('/api/jobs')).status);
      expect(status).toBe(401);
      await page.type('input[name="token"]', TOKEN);
      await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
      await page.waitForSelector('tr[data-job="hourly"] button[data-action="trigger"]');
      await page.close();
    } finally {
      await guarded.stop();
    }
  }, 60_000);
});

describe.skipIf(!HAVE_CHROMIUM)('the page with 200 jobs', () => {
  it('lists every job and keeps updating live', async () => {
    const dir200 = mkdtempSync(join(tmpdir(), 'rpr-uppage200-'));
    const file = join(dir200, 'many.toml');
    writeFileSync(
      file,
      Array.from({ length: 200 }, (_, i) => `[jobs.job-${String(i).padStart(3, '0')}]\nschedule = "interval"\nevery = "${i === 0 ? '500ms' : '1h'}"\ncommand = ["true"]\n`).join('\n'),
    );
    const port = await freePort();
    const up = startUp(['--config', file, '--ui-port', String(port), '--ui-no-auth']);
    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    try {
      await up.waitFor(/rpr: up: 200 jobs/);
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => document.querySelectorAll('#jobs tbody tr').length === 200, { timeout: 15_000 });
      const cells = await page.$$eval('tr[data-job="job-000"] .cell', (c) => c.length);
      await page.waitForFunction((n) => document.querySelectorAll('tr[data-job="job-000"] .cell').length > n, { timeout: 15_000 }, cells);
      await page.click('tr[data-job="job-199"] button[data-action="trigger"]');
      await page.waitForFunction(() => document.querySelectorAll('tr[data-job="job-199"] .cell').length === 1, { timeout: 15_000 });
    } finally {
      await browser.close();
      await up.stop();
      rmSync(dir200, { recursive: true, force: true });
    }
  }, 60_000);
});
