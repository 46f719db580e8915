// docker and ssh: the plans they answer through the real host (including its exec check), and
// end to end: ssh against a real sshd started here on 127.0.0.1 with throwaway keys (skipped when
// /usr/sbin/sshd is missing), docker against a working engine (skipped when there is none).
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { executorPlan, type ExecutionPlan, type PluginHandle } from '../../src/plugins/index.js';
import { loadBundled, loadError } from './bundled-helpers.js';

const run = promisify(execFile);
const open: PluginHandle[] = [];
async function load(name: string, config: Record<string, unknown>, options = {}): Promise<PluginHandle> {
  const h = await loadBundled(name, config, options);
  open.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

const command = (argv: string[]) => ({ argv, cwd: '/tmp', run: 3 });

/** Runs a plan as rpr's runner would: argv[0] from PATH, the plan's env on top of ours, its cwd. */
async function execute(plan: ExecutionPlan): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(plan.argv[0]!, plan.argv.slice(1), { cwd: plan.cwd, env: { ...process.env, ...plan.env }, timeout: 20_000 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe('docker', () => {
  it('plans docker run --rm with the settings, then the image and the command as given', async () => {
    const h = await load('docker', {
      image: 'alpine:3.20',
      volume: '/srv/data:/data:ro, /tmp/out:/out',
      env: 'GREETING=hello world,HOME',
      network: 'none',
      user: '1000:1000',
      workdir: '/data',
      args: '--init,--memory=64m',
    });
    const plan = await executorPlan(h, command(['sh', '-c', 'echo "$GREETING" > /out/x']));
    expect(plan).toEqual({
      argv: [
        'docker',
        'run',
        '--rm',
        '--network=none',
        '--user=1000:1000',
        '--workdir=/data',
        '--volume=/srv/data:/data:ro',
        '--volume=/tmp/out:/out',
        '--env=GREETING=hello world',
        '--env=HOME',
        '--init',
        '--memory=64m',
        'alpine:3.20',
        'sh',
        '-c',
        'echo "$GREETING" > /out/x',
      ],
      env: {},
      cwd: '/tmp',
    });
  });

  it('with only an image: the minimal command line', async () => {
    const h = await load('docker', { image: 'busybox' });
    expect((await executorPlan(h, command(['date']))).argv).toEqual(['docker', 'run', '--rm', 'busybox', 'date']);
  });

  it('may have rpr spawn docker and nothing else', async () => {
    const h = await load('docker', { image: 'busybox' });
    expect(h.manifest.permissions).toMatchObject({ exec: ['docker'], network: [], hostFunctions: [], filesystem: {} });
    const narrowed = await load('docker', { image: 'busybox' }, { permissions: { narrow: { exec: [] } } });
    await expect(executorPlan(narrowed, command(['date']))).rejects.toMatchObject({ failure: 'denied', message: expect.stringContaining('exec of "docker" denied') });
  });

  it('requires an image', async () => {
    expect(await loadError('docker', {})).toMatch(/setting "image" is required/);
    expect(await loadError('docker', { image: '--privileged' })).toMatch(/image must name a Docker image/);
  });

  const dockerWorks = spawnSync('docker', ['info'], { timeout: 10_000 }).status === 0;
  // A skip must say why: this machine kind has the docker client but no engine.
  if (!dockerWorks) console.warn('SKIP docker executor end to end: `docker info` failed, no working Docker engine here');
  it.skipIf(!dockerWorks)(
    'end to end: the planned command runs in a container (needs a working docker)',
    async () => {
      const h = await load('docker', { image: 'busybox', env: 'X=from rpr' });
      const result = await execute(await executorPlan(h, command(['sh', '-c', 'echo "$X"'])));
      expect(result).toMatchObject({ code: 0, stdout: 'from rpr\n' });
    },
    120_000,
  );
});

describe('ssh', () => {
  it('plans ssh with BatchMode, the options, -- and the command quoted for the remote shell', async () => {
    const h = await load('ssh', {
      host: 'deploy@build.example.com',
      port: 2222,
      identity: '/keys/id_ed25519',
      options: 'StrictHostKeyChecking=accept-new, ConnectTimeout=5',
      'remote-dir': '/srv/my app',
    });
    const plan = await executorPlan(h, command(['printf', '%s|%s\\n', "it's $HOME", 'a;b']));
    expect(plan).toEqual({
      argv: [
        'ssh',
        '-p',
        '2222',
        '-o',
        'BatchMode=yes',
        '-i',
        '/keys/id_ed25519',
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'StrictHostKeyChecking=accept-new',
        '-o',
        'ConnectTimeout=5',
        '--',
        'deploy@build.example.com',
        `cd '/srv/my app' && printf '%s|%s\\n' 'it'\\''s $HOME' 'a;b'`,
      ],
      env: {},
      cwd: '/tmp',
    });
  });

  it('may have rpr spawn ssh and nothing else', async () => {
    const h = await load('ssh', { host: 'example.com' });
    expect(h.manifest.permissions).toMatchObject({ exec: ['ssh'], network: [], hostFunctions: [], filesystem: {} });
    expect((await executorPlan(h, command(['uptime']))).argv).toEqual(['ssh', '-p', '22', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '--', 'example.com', 'uptime']);
    // An unreachable host fails the run in seconds, not after the system's TCP timeout.
    const quick = await load('ssh', { host: 'example.com', 'connect-timeout': '2500ms' });
    expect((await executorPlan(quick, command(['uptime']))).argv).toContain('ConnectTimeout=3');
  });

  it('refuses a host that is not one, and options that are not Name=value', async () => {
    expect(await loadError('ssh', {})).toMatch(/setting "host" is required/);
    expect(await loadError('ssh', { host: '-oProxyCommand=evil' })).toMatch(/host must be \[user@\]host/);
    expect(await loadError('ssh', { host: 'h', options: 'Compression' })).toMatch(/"Compression" is not Name=value/);
    expect(await loadError('ssh', { host: 'h', port: 70000 })).toMatch(/port must be 1-65535/);
    expect(await loadError('ssh', { host: 'h', 'connect-timeout': '500ms' })).toMatch(/connect-timeout must be 1s or more/);
  });

  const sshd = '/usr/sbin/sshd';
  if (!existsSync(sshd)) console.warn('SKIP ssh executor end to end: /usr/sbin/sshd is missing (apt-get install openssh-server; .ci/run does)');
  describe.skipIf(!existsSync(sshd))('end to end against a real sshd on 127.0.0.1', () => {
    let dir: string;
    let server: ChildProcess | undefined;
    let port: number;
    let log = '';

    beforeAll(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'rpr-sshd-'));
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'client_key')]);
      await run('cp', [path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys')]);
      port = await new Promise<number>((resolve) => {
        const s = net.createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as net.AddressInfo).port;
          s.close(() => resolve(p));
        });
      });
      writeFileSync(
        path.join(dir, 'sshd_config'),
        `${[
          `ListenAddress 127.0.0.1:${port}`,
          `HostKey ${path.join(dir, 'host_key')}`,
          `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'PermitRootLogin prohibit-password',
          'UsePAM no',
          'StrictModes no',
          'PidFile none',
          'LogLevel ERROR',
        ].join('\n')}\n`,
      );
      // sshd started as root wants its privilege separation directory.
      if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
      server = spawn(sshd, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
      server.stderr!.on('data', (d) => (log += d));
      // Ready when it accepts connections.
      for (let i = 0; i < 100; i++) {
        const up = await new Promise<boolean>((resolve) => {
          const c = net.connect(port, '127.0.0.1', () => {
            c.destroy();
            resolve(true);
          });
          c.on('error', () => resolve(false));
        });
        if (up) {
          log = ''; // forget the probe's "connection closed"
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`sshd did not start: ${log}`);
    }, 60_000);

    afterAll(() => {
      server?.kill('SIGTERM');
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('runs the command remotely, argv intact through the remote shell, exit code passed back', async () => {
      const h = await load('ssh', {
        host: `${os.userInfo().username}@127.0.0.1`,
        port,
        identity: path.join(dir, 'client_key'),
        options: `StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,LogLevel=ERROR`,
        'remote-dir': dir,
      });
      const ok = await execute(await executorPlan(h, command(['sh', '-c', 'printf "%s|%s|%s\\n" "$1" "$2" "$(pwd)"', 'sh', "it's $HOME", 'a;b *'])));
      expect(ok.stderr, log).toBe('');
      expect(ok).toMatchObject({ code: 0, stdout: `it's $HOME|a;b *|${dir}\n` });
      const failed = await execute(await executorPlan(h, command(['sh', '-c', 'exit 7'])));
      expect(failed.code).toBe(7);
    }, 60_000);

    it('never prompts: an unknown key fails the run at once instead of hanging', async () => {
      const h = await load('ssh', { host: '127.0.0.1', port, options: 'StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,IdentityFile=/nonexistent,IdentitiesOnly=yes' });
      const t0 = Date.now();
      const result = await execute(await executorPlan(h, command(['true'])));
      expect(result.code).toBe(255);
      expect(result.stderr).toMatch(/Permission denied/);
      expect(Date.now() - t0).toBeLessThan(10_000);
    }, 30_000);
  });
});
