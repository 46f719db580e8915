/**
 * Hostile plugins and malicious manifests through the CLI, as a user would meet them, judged by
 * ground truth: peak RSS of rpr, whether a request reached a server on 127.0.0.1, whether a marker
 * file was written, bytes on stderr, exit codes. Schedulers run on rpr's own thread, metered (or
 * under node:vm's watchdog with RPR_PLUGIN_METER=0), unless RPR_PLUGIN_WORKER=1: the scheduler
 * attacks run all three ways.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeLeb, readSections, SECTION, writeSections } from '../../src/plugins/wasm/binary.js';
import { cleanup, run, sleep, start, tempDir } from './core-helpers.js';
import { errLines, installFixture, pluginDir, watchPeakRss, withPlugins } from './plugins-helpers.js';
import { readLockJson, sourceFolder } from './plugins-manage-helpers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
  await cleanup();
});

/** A server on 127.0.0.1 counting the requests that reach it. */
async function counter(): Promise<{ port: number; url: string; hits: () => number }> {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { port, url: `http://127.0.0.1:${port}/`, hits: () => hits };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const NO_ESCAPES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe.each([
  ['foreground, metered', {}],
  ['foreground, node:vm guard', { RPR_PLUGIN_METER: '0' }],
  ['worker', { RPR_PLUGIN_WORKER: '1' }],
] as const)('a hostile scheduler, %s', (_placement, env) => {
  it('1 MiB log lines in a loop: SIGTERM ends rpr within the call limit, memory stays bounded', async () => {
    const dir = pluginDir('hostile');
    // The first run prints the mode; the next decision floods the log until the call is stopped.
    const job = start(['hostile', '--', 'printf', 'log-flood-mb'], { env: { ...withPlugins(dir), ...env }, timeoutMs: 20_000 });
    const peak = watchPeakRss(job.child.pid!);
    await job.waitFor('stderr', /flooding x/, 8000);
    // Let the flood build up (before the fix, by now the main thread was buried in messages).
    await sleep(800);
    const signalled = Date.now();
    job.child.kill('SIGTERM');
    const done = await job.done;
    const peakMb = peak.stop() / 1024;
    // Before: the messages starved the main thread, SIGTERM never ran, RSS grew ~300 MB/s.
    expect(done.exitWall - signalled).toBeLessThan(1500 + 3000);
    expect([143, 1]).toContain(done.code);
    expect(peakMb).toBeLessThan(400);
    expect(done.stderr.length).toBeLessThan(200_000);
    for (const line of errLines(done.stderr)) expect(line.length).toBeLessThan(600);
  }, 30_000);

  it('Ctrl-C during a stuck decision ends the job within the call limit, exit 130', async () => {
    const dir = pluginDir('hostile');
    const job = start(['hostile', '--verbose', '--', 'printf', 'spin'], { env: { ...withPlugins(dir), ...env }, timeoutMs: 20_000 });
    await job.waitFor('stderr', /run 1 ok/, 8000);
    await sleep(200);
    const signalled = Date.now();
    job.child.kill('SIGINT');
    const done = await job.done;
    expect(done.exitWall - signalled).toBeLessThan(1500 + 3000);
    expect(done.code).toBe(130);
  });

  it('a 300 KB error full of control characters is one bounded, escaped line', async () => {
    const dir = pluginDir('hostile');
    const done = await run(['hostile', '--', 'printf', 'error-huge'], { env: { ...withPlugins(dir), ...env } });
    expect(done.code).toBe(1);
    const err = errLines(done.stderr);
    expect(err, done.stderr).toHaveLength(1);
    expect(err[0]!.length).toBeLessThan(1200);
    expect(done.stderr).not.toMatch(NO_ESCAPES);
    expect(err[0]).toContain('\\x1b[31mred');
  });
});

describe('code Extism runs while it sets an instance up', () => {
  it('a bare .wasm looping in hs_init: plugins install stops it and says so, before any question', async () => {
    const home = tempDir();
    const t0 = Date.now();
    const wasm = path.join(installFixture(tempDir(), 'hostile-init'), 'plugin.wasm');
    const done = await run(['plugins', 'install', wasm, '--yes'], { env: { RPR_PLUGIN_DIR: home }, timeoutMs: 15_000 });
    expect(done.code).toBe(1);
    expect(done.stderr).toMatch(/describe .*did not answer within \d+ ms/);
    expect(done.stdout).not.toContain('It asks for these permissions');
    expect(Date.now() - t0).toBeLessThan(12_000);
    expect(existsSync(path.join(home, 'hostile-init'))).toBe(false);
  });

  it('a module declaring a huge table is refused before it is instantiated, memory stays small', async () => {
    const dir = pluginDir('good-scheduler');
    const plugin = path.join(dir, 'good-scheduler');
    const sections = readSections(readFileSync(path.join(plugin, 'plugin.wasm')));
    // Replace the table section with one table of 2^25 funcref entries (~600 MB once instantiated).
    const table = { id: SECTION.table, body: Uint8Array.from([1, 0x70, 0x00, ...encodeLeb(2 ** 25)]) };
    const at = sections.findIndex((s) => s.id === SECTION.table);
    if (at >= 0) sections[at] = table;
    else
      sections.splice(
        sections.findIndex((s) => s.id > SECTION.table && s.id !== SECTION.custom),
        0,
        table,
      );
    const bytes = Buffer.from(writeSections(sections));
    writeFileSync(path.join(plugin, 'plugin.wasm'), bytes);
    const toml = path.join(plugin, 'plugin.toml');
    writeFileSync(toml, readFileSync(toml, 'utf8').replace(/sha256 = "[0-9a-f]+"/, `sha256 = "${sha256(bytes)}"`));
    const job = start(['good-scheduler', '--', 'true'], { env: withPlugins(dir) });
    const peak = watchPeakRss(job.child.pid!);
    const done = await job.done;
    expect(done.code).toBe(1);
    expect(done.stderr).toMatch(/tables of 33554432 entries at start; a plugin may have 65536 in all/);
    expect(peak.stop() / 1024).toBeLessThan(200);
  });
});

describe('a plugin cannot widen its own permissions', () => {
  const grantSelf = (dir: string) => {
    const toml = path.join(dir, 'plugin.toml');
    writeFileSync(toml, readFileSync(toml, 'utf8').replace('[permissions]', '[permissions]\nfilesystem = { "/self" = "." }'));
  };

  it('a mapping of its own folder is refused at install and at load', async () => {
    const source = sourceFolder('caller');
    grantSelf(source);
    const home = tempDir();
    const install = await run(['plugins', 'install', source, '--yes'], { env: { RPR_PLUGIN_DIR: home } });
    expect(install.code).toBe(1);
    expect(install.stderr).toMatch(/maps \/self to .*which holds the plugin's own folder: it could rewrite its plugin\.toml/);
    // Copied in by hand: the load refuses it.
    const dir = pluginDir('caller');
    grantSelf(path.join(dir, 'caller'));
    const done = await run(['count', '--times', '1', '--output', 'caller', '--', 'true'], { env: withPlugins(dir) });
    expect(done.stderr).toMatch(/filesystem mapping \/self -> .*caller: it would give the plugin write access to its own folder/);
    expect(done.code).toBe(1);
  });

  it('permissions written into an installed plugin.toml: refused at load and at hot reload, verify fails, update restores', async () => {
    const server = await counter();
    const home = tempDir();
    const env = { RPR_PLUGIN_DIR: home };
    expect((await run(['plugins', 'install', sourceFolder('caller'), '--yes'], { env })).code).toBe(0);
    expect(readLockJson(home).plugins.caller).toMatchObject({ permissions: { network: [], filesystem: {}, timeout_ms: 2000 } });
    const config = path.join(tempDir(), 'rpr.toml');
    writeFileSync(config, `[plugins.caller]\nurl = "${server.url}"\n`);
    const toml = path.join(home, 'caller', 'plugin.toml');
    const widen = () => writeFileSync(toml, readFileSync(toml, 'utf8').replace('[permissions]', `[permissions]\nnetwork = ["127.0.0.1:*"]`));

    // A running job: the manifest changes under it; the reload is refused and the request still denied.
    const job = start(['--config', config, 'interval', '--every', '200ms', '--for', '3s', '--output', 'caller', '--', 'true'], { env, timeoutMs: 15_000 });
    await job.waitFor('stderr', /network access to 127\.0\.0\.1:\d+ denied/, 8000);
    widen();
    const done = await job.done;
    expect(done.stderr).toMatch(/caller.*the changed plugin does not load, keeping version 1\.0\.0: .*other permissions/);
    expect(server.hits()).toBe(0);

    // A new job: refused at load.
    const again = await run(['--config', config, 'count', '--times', '1', '--output', 'caller', '--', 'true'], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/asks for other permissions than the ones agreed to when it was installed \(network \[\] -> \["127\.0\.0\.1:\*"\]\)/);
    expect(server.hits()).toBe(0);

    const verify = await run(['plugins', 'verify'], { env });
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/FAILED +caller: .* asks for other permissions than plugins\.lock pinned at install/);

    const update = await run(['plugins', 'update', 'caller'], { env });
    expect(update.code, update.stderr).toBe(0);
    expect(update.stdout).toMatch(/Restoring caller 1\.0\.0 .*asks for other permissions than plugins\.lock pinned/);
    expect(readFileSync(toml, 'utf8')).not.toContain('127.0.0.1:*');
    expect((await run(['plugins', 'verify'], { env })).code).toBe(0);
  }, 30_000);
});

describe('the consent screen cannot be spoofed', () => {
  it('escape sequences in a manifest are refused at parse; nothing reaches the terminal raw', async () => {
    const source = sourceFolder('caller');
    const toml = path.join(source, 'plugin.toml');
    const fake = '\\u001b[2K\\r  network:        none\\u001b[A';
    writeFileSync(
      toml,
      readFileSync(toml, 'utf8')
        .replace(/description = ".*"/, `description = "GETs things${fake}"`)
        .replace('[permissions]', '[permissions]\nnetwork = ["127.0.0.1:*"]'),
    );
    const home = tempDir();
    const done = await run(['plugins', 'install', source, '--yes'], { env: { RPR_PLUGIN_DIR: home } });
    expect(done.code).not.toBe(0);
    expect(done.stderr).toMatch(/plugin\.description: control characters and invisible formatting are not allowed/);
    expect(done.stdout + done.stderr).not.toMatch(NO_ESCAPES);
    expect(existsSync(path.join(home, 'caller'))).toBe(false);
    // Copied in by hand: listed as a problem, escaped.
    const dir = pluginDir();
    cpSync(source, path.join(dir, 'caller'), { recursive: true });
    const list = await run(['plugins', 'list'], { env: withPlugins(dir) });
    expect(list.stderr).toMatch(/control characters and invisible formatting are not allowed/);
    expect(list.stdout + list.stderr).not.toMatch(NO_ESCAPES);
  });

  it('a 6 MB manifest is not read: reported, and the other plugins work', async () => {
    const dir = pluginDir();
    mkdirSync(path.join(dir, 'big'));
    writeFileSync(path.join(dir, 'big', 'plugin.toml'), `# ${'x'.repeat(6 * 2 ** 20)}\n`);
    const done = await run(['fibonacci', '--initial', '10ms', '--attempts', '1', '--verbose', '--', 'true'], { env: withPlugins(dir) });
    expect(done.code).toBe(0);
    const list = await run(['plugins', 'list'], { env: withPlugins(dir) });
    expect(list.stderr).toMatch(/big\/plugin\.toml: is 6291459 bytes, more than the 65536 a plugin file may have; not read/);
    expect(list.stdout).toMatch(/fibonacci/);
  });
});

describe('an executor plan cannot choose what runs', () => {
  /** A folder holding an `echo` that leaves a marker, and a library that leaves one when loaded. */
  function trap(): { bin: string; lib: string; marker: string } {
    const bin = tempDir();
    const marker = path.join(tempDir(), 'ran');
    writeFileSync(path.join(bin, 'echo'), `#!/bin/sh\ntouch ${marker}.echo\n`);
    chmodSync(path.join(bin, 'echo'), 0o755);
    const src = path.join(bin, 'evil.c');
    writeFileSync(src, `#include <stdio.h>\n__attribute__((constructor)) static void hit(void) { FILE *f = fopen("${marker}.preload", "w"); if (f) fclose(f); }\n`);
    const lib = path.join(bin, 'evil.so');
    execFileSync('cc', ['-shared', '-fPIC', '-o', lib, src]);
    return { bin, lib, marker };
  }

  const job = (dir: string, config: string, extra: string[] = []) => run(['--config', config, 'count', '--times', '1', '--executor', 'executor', ...extra, '--', 'hello'], { env: withPlugins(dir) });

  it("PATH and LD_PRELOAD in the plan are refused (exec_env not granted): nothing of the plugin's choosing runs", async () => {
    const { bin, lib, marker } = trap();
    const dir = pluginDir('executor');
    for (const [variable, value] of [
      ['PATH', bin],
      ['LD_PRELOAD', lib],
    ]) {
      const config = path.join(tempDir(), 'rpr.toml');
      writeFileSync(config, `[plugins.executor]\nplan_env = '${JSON.stringify({ [variable!]: value })}'\n`);
      const done = await job(dir, config);
      expect(done.code).toBe(1);
      expect(done.stderr).toMatch(new RegExp(`setting ${variable} for "echo" denied: it changes what gets run or loaded .*hint: grant it with exec_env = \\["${variable}"\\]`));
    }
    expect(existsSync(`${marker}.echo`)).toBe(false);
    expect(existsSync(`${marker}.preload`)).toBe(false);
  });

  it("with PATH granted, the program is still the one rpr's own PATH finds", async () => {
    const { bin, marker } = trap();
    const dir = pluginDir('executor');
    const config = path.join(tempDir(), 'rpr.toml');
    writeFileSync(config, `[plugins.executor]\nplan_env = '${JSON.stringify({ PATH: bin })}'\n[plugins.executor.permissions]\nexec_env = ["PATH"]\n`);
    const done = await job(dir, config);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toBe('hello\n');
    expect(existsSync(`${marker}.echo`)).toBe(false);
  });

  it('a NUL byte in the plan, or a working directory that does not exist: that run fails with one line', async () => {
    const dir = pluginDir('executor');
    for (const [key, value, message] of [
      ['plan_env', '{"A":"x\\u0000y"}', /the plan's variable A holds a NUL byte/],
      ['plan_cwd', '/nonexistent/rpr', /run \d not started: working directory \/nonexistent\/rpr does not exist/],
    ] as const) {
      const config = path.join(tempDir(), 'rpr.toml');
      writeFileSync(config, `[plugins.executor]\n${key} = '${value}'\n`);
      const t0 = Date.now();
      const done = await job(dir, config, ['--times', '2']);
      expect(done.code).toBe(1);
      expect(Date.now() - t0).toBeLessThan(10_000);
      const err = errLines(done.stderr);
      expect(err.filter((l) => message.test(l))).toHaveLength(2);
    }
  });
});

describe('plugin settings from the environment', () => {
  it("RPR_PLUGIN_<NAME>__<KEY>: a plugin named slack-webhook never reads the slack plugin's secret", async () => {
    const dir = pluginDir('slack-webhook');
    const secret = { RPR_PLUGIN_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/SECRET' };
    const leaked = await run(['count', '--times', '1', '--output', 'slack-webhook', '--', 'true'], { env: { ...withPlugins(dir), ...secret } });
    expect(leaked.stderr).not.toContain('SECRET');
    expect(leaked.stderr).toMatch(/url=unset/);
    expect(leaked.stderr).toMatch(/RPR_PLUGIN_SLACK_WEBHOOK_URL is not read .*set RPR_PLUGIN_SLACK_WEBHOOK__URL instead/);
    const own = await run(['count', '--times', '1', '--output', 'slack-webhook', '--', 'true'], { env: { ...withPlugins(dir), ...secret, RPR_PLUGIN_SLACK_WEBHOOK__URL: 'mine' } });
    expect(own.stderr).toMatch(/url=mine/);
    expect(own.stderr).not.toContain('SECRET');
  });

  it('two settings of one plugin that would share a variable are refused in its manifest', async () => {
    const dir = pluginDir('caller');
    const toml = path.join(dir, 'caller', 'plugin.toml');
    writeFileSync(toml, `${readFileSync(toml, 'utf8')}\n[config.u-r-l]\ntype = "string"\nhelp = "x"\n[config.u_r_l]\ntype = "string"\nhelp = "y"\n`);
    const list = await run(['plugins', 'list'], { env: withPlugins(dir) });
    expect(list.stderr).toMatch(/config\.u_r_l: "u_r_l" and "u-r-l" would be set by the same environment variable \(RPR_PLUGIN_<NAME>__U_R_L\)/);
  });
});
