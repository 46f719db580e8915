/**
 * What a new user meets in the first hour (issue 15), through the built CLI: the README's examples
 * as written, and the mistakes people make on the way.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, run } from './core-helpers.js';
import { configFile, errLines } from './plugins-helpers.js';

const closers: (() => void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await cleanup();
});

describe('the ssh executor against a host that does not answer', () => {
  it('fails the run at its connect timeout, and --verbose says what the run waits on', async () => {
    // Accepts the connection and never says a word: ssh would wait for the banner for minutes.
    const silent = net.createServer((socket) => closers.push(() => socket.destroy()));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    closers.push(() => silent.close());
    const port = (silent.address() as AddressInfo).port;
    const t0 = Date.now();
    const done = await run(
      ['count', '--times', '1', '--verbose', '--executor', 'ssh', '--set', 'ssh.host=deploy@127.0.0.1', '--set', `ssh.port=${port}`, '--set', 'ssh.connect-timeout=1s', '--', 'uptime'],
      { timeoutMs: 20_000 },
    );
    expect(done.code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const err = errLines(done.stderr);
    expect(err).toContainEqual(`rpr: run 1: ssh starts ssh -p ${port} -o BatchMode=yes -o ConnectTimeout=1 -- deploy@127.0.0.1 uptime`);
    expect(done.stderr).toMatch(/timed out/);
  });
});

describe('rpr config check knows the plugins', () => {
  it('a missing scheduler plugin, a misspelt setting, a table for no plugin, a wrong kind: every problem, exit 2', async () => {
    const file = configFile(
      [
        '[plugins.webhok]',
        'url = "http://127.0.0.1:9/x"',
        '',
        '[plugins.fibonacci]',
        'initail = "2s"',
        '',
        '[jobs.retry]',
        'schedule = "fibonaci"',
        'command = ["true"]',
        '',
        '[jobs.backoff]',
        'schedule = "fibonacci"',
        'max = "soon"',
        'output = "ssh"',
        'command = ["true"]',
        '',
      ].join('\n'),
    );
    const done = await run(['config', 'check', file]);
    expect(done.code).toBe(2);
    const err = errLines(done.stderr);
    expect(err).toContainEqual(expect.stringMatching(/:1: plugins\.webhok: no plugin "webhok": this table would be ignored \(hint: .*did you mean webhook\?/));
    expect(err).toContainEqual(expect.stringMatching(/:5: plugins\.fibonacci\.initail: plugin "fibonacci" has no setting "initail" \(hint: did you mean initial\?/));
    expect(err).toContainEqual(expect.stringMatching(/:8: jobs\.retry\.schedule: unknown schedule "fibonaci" \(hint: did you mean fibonacci\?/));
    expect(err).toContainEqual(expect.stringMatching(/:13: jobs\.backoff\.max: .*"soon"/));
    expect(err).toContainEqual(expect.stringMatching(/:14: jobs\.backoff\.output: plugin "ssh" is an executor, not an output/));
    expect(err.at(-1)).toMatch(/^rpr: 5 problems in /);
  });

  it("emit and subscribe are grantable in [plugins.NAME.permissions], as the denial's hint says", async () => {
    const file = configFile('[plugins.webhook.permissions]\nnetwork = ["127.0.0.1:9000"]\nemit = ["deploy.done"]\nsubscribe = ["load.sample"]\nhost_functions = ["emit"]\n');
    const done = await run(['config', 'check', file]);
    expect(done.stderr).toBe('');
    expect(done.stdout).toBe(`${file}: ok\n`);
    expect(done.code).toBe(0);
  });
});
