/**
 * End to end through the built CLI: runs started by the launcher (the default
 * where python3 is available) behave exactly as runs started by execa
 * (RPR_LAUNCHER=0).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RPR, rpr, sleep } from '../helpers/cli.js';
import { configFile, pluginDir, withPlugins } from './plugins-helpers.js';

const available = process.platform === 'linux' && spawnSync('python3', ['-c', 'import sys; sys.exit(sys.version_info < (3, 8))']).status === 0;
const EXECA = { RPR_LAUNCHER: '0' };

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-launcher-'));
  dirs.push(dir);
  return dir;
}

interface Proc {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
  cmdline: string;
}
function processes(): Proc[] {
  const list: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1').replaceAll('\0', ' ').trim();
      list.push({ pid: Number(entry), ppid: Number(ppid), pgrp: Number(pgrp), state: state!, cmdline });
    } catch {
      // ended while we looked
    }
  }
  return list;
}
/** Live (not zombie) processes whose command line contains marker. */
const liveWith = (marker: string): Proc[] => processes().filter((p) => p.state !== 'Z' && p.cmdline.includes(marker));
const uniqueSleep = (): string => `${40 + Math.floor(Math.random() * 900)}.${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}3`;
const lines = (text: string): string[] => text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);

describe.skipIf(!available)('runs started by the launcher', () => {
  it('300 runs of echo x give 300 lines; runs are started by the launcher', async () => {
    const echo = await rpr(['count', '--times', '300', '--', 'echo', 'x']);
    expect(echo.code).toBe(0);
    expect(echo.stdout).toBe('x\n'.repeat(300));
    // Who starts each run: the parent of `sh` is python3 (the launcher) or node (execa).
    const parents = lines((await rpr(['count', '--times', '20', '--', 'sh', '-c', 'cat /proc/$PPID/comm'])).stdout);
    // The first run waits up to 1 s for the launcher; on a very busy machine the first few may be execa's.
    const first = parents.indexOf('python3');
    expect(first).toBeGreaterThanOrEqual(0);
    expect(parents.slice(0, first).every((p) => p === 'node')).toBe(true);
    expect(parents.slice(first).every((p) => p === 'python3')).toBe(true);
    const execa = await rpr(['count', '--times', '2', '--', 'sh', '-c', 'cat /proc/$PPID/comm'], { env: EXECA });
    expect(lines(execa.stdout)).toEqual(['node', 'node']);
  });

  it('give each run its RPR_ variables on top of the same environment as execa', async () => {
    const env = { RPR_TEST_VALUE: `a b 'c' "d" $HOME \\ ü\nnext line`, RPR_TEST_EMPTY: '' };
    const runVars = await rpr(['count', '--times', '3', '--', 'sh', '-c', 'echo "$RPR_RUN|$RPR_LAST_EXIT_CODE|${RPR_LAST_DURATION_MS:+set}|$RPR_SCHEDULED_AT"; exit $((RPR_RUN % 2))'], { env });
    const rows = lines(runVars.stdout).map((l) => l.split('|'));
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ['1', '', ''],
      ['2', '1', 'set'],
      ['3', '0', 'set'],
    ]);
    for (const r of rows) expect(new Date(r[3]!).toISOString()).toBe(r[3]);
    // Everything else in the environment, byte for byte, sorted: the same through both paths.
    const dump = ['count', '--times', '1', '--', 'sh', '-c', 'env -0 | grep -zv "^RPR_SCHEDULED_AT=" | sort -z'];
    const viaLauncher = await rpr(dump, { env });
    const viaExeca = await rpr(dump, { env: { ...env, ...EXECA } });
    // (RPR_JOB_ID is one per rpr process: present on both paths, equal on neither.)
    const entries = (out: string): string[] => out.split('\0').filter((e) => !e.startsWith('RPR_LAUNCHER=') && !e.startsWith('RPR_JOB_ID='));
    for (const out of [viaLauncher.stdout, viaExeca.stdout]) expect(out).toMatch(/\0RPR_JOB_ID=\d+\.[0-9a-f]{12}\0/);
    expect(entries(viaLauncher.stdout)).toEqual(entries(viaExeca.stdout));
    expect(viaLauncher.stdout).toContain(`\0RPR_TEST_VALUE=${env.RPR_TEST_VALUE}\0`);
    expect(viaLauncher.stdout).toContain('\0RPR_TEST_EMPTY=\0');
  });

  it('pass arguments exactly: quotes, spaces, $, backslashes, newlines, empty ones', async () => {
    const args = ["it's", 'a  b', '"double"', '$HOME', '$(echo no)', '`echo no`', '\\n', 'one\ntwo', '', '*', 'ü 😀', '-n', '--'];
    const result = await rpr(['count', '--times', '1', '--', 'sh', '-c', 'printf "%s\\n" "$@"', 'sh', ...args]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(args.map((a) => `${a}\n`).join(''));
  });

  it('start the program each run processes the same way as execa (session, signals, fds, blocking stdout)', async () => {
    // SigIgn is masked to signals 1-31: posix_spawn leaves glibc's internal signals 32 and 33 ignored.
    const probe = [
      'count',
      '--times',
      '1',
      '--',
      'sh',
      '-c',
      'read -r s < /proc/self/stat; set -- ${s##*) }; echo "pgrp=$(( $3 == $$ )) session=$(( $4 == $$ ))";' +
        // Read by sh itself: while it forks a child, dash blocks every signal for a moment.
        'while read -r k v; do case $k in SigBlk:|SigCgt:) echo "$k $v";; SigIgn:) echo "SigIgn & 0x7fffffff = $(( 0x$v & 0x7fffffff ))";; esac; done < /proc/$$/status;' +
        'for f in /proc/$$/fd/*; do printf "%s " "${f##*/}"; done; echo; readlink /proc/$$/fd/0; grep ^flags /proc/$$/fdinfo/1;' +
        'echo "started by $(cat /proc/$PPID/comm)"',
    ];
    const viaLauncher = (await rpr(probe)).stdout.split('started by ');
    const viaExeca = (await rpr(probe, { env: EXECA })).stdout.split('started by ');
    expect([viaLauncher[1], viaExeca[1]]).toEqual(['python3\n', 'node\n']);
    expect(viaLauncher[0]).toContain('pgrp=1 session=1');
    expect(viaLauncher[0]).toContain('/dev/null');
    expect(viaLauncher[0]).toBe(viaExeca[0]);
  });

  it('report an exit code above 128 as an exit code, and a death by signal as a signal', async () => {
    const json = async (script: string, env = {}) => JSON.parse((await rpr(['count', '--times', '1', '--json', '--', 'sh', '-c', script], { env })).stdout);
    for (const script of ['exit 130', 'exit 255', 'kill -INT $$', 'kill -TERM $$']) {
      const a = await json(script);
      const b = await json(script, EXECA);
      expect([a.exit_code, a.signal, a.success]).toEqual([b.exit_code, b.signal, b.success]);
    }
    expect((await json('exit 130')).exit_code).toBe(130);
    expect((await json('kill -INT $$')).signal).toBe('SIGINT');
  });

  it('time out a run with a grandchild and leave nothing behind', async () => {
    const secs = uniqueSleep();
    const result = await rpr(['count', '--times', '2', '--timeout', '300ms', '--kill-after', '500ms', '--', 'sh', '-c', `sleep ${secs} & sleep ${secs}; wait`]);
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(5000);
    expect(liveWith(`sleep ${secs}`)).toEqual([]);
  });

  it('fail a run whose command disappeared mid-job with 127, and go on', async () => {
    const dir = tempDir();
    const cmd = join(dir, 'vanishing');
    writeFileSync(cmd, '#!/bin/sh\n[ "$RPR_RUN" = 2 ] && rm -f -- "$0"\nexit 0\n');
    chmodSync(cmd, 0o755);
    const result = await rpr(['count', '--times', '4', '--json', '--', cmd]);
    expect(result.code).toBe(1);
    const runs = lines(result.stdout).map((l) => JSON.parse(l));
    expect(runs.map((r) => [r.run, r.exit_code, r.success, r.decided_by])).toEqual([
      [1, 0, true, 'exit-code'],
      [2, 0, true, 'exit-code'],
      [3, 127, false, 'spawn-error'],
      [4, 127, false, 'spawn-error'],
    ]);
    // Only the job's last line (a failed job says why).
    expect(result.stderr).toBe('rpr: job ended (times): 2 of 4 runs failed, 2 could not start; exit 1\n');
  });

  it('run overlapping runs with --on-overlap allow', async () => {
    const result = await rpr(['interval', '--every', '100ms', '--times', '4', '--on-overlap', 'allow', '--json', '--', 'sh', '-c', 'sleep 0.35; exit $RPR_RUN']);
    const runs = lines(result.stdout).map((l) => JSON.parse(l));
    expect(runs.map((r) => r.exit_code).sort()).toEqual([1, 2, 3, 4]);
    expect(result.ms).toBeLessThan(1500 + 1000); // not 4 x 350 ms in a row plus start-up
  });

  it('does not outlive rpr: after a normal end, Ctrl-C, or rpr being killed', async () => {
    const launcherOf = (rprPid: number): number[] =>
      processes()
        .filter((p) => p.ppid === rprPid && /python[\d.]* -I -S \S*launcher\.py/.test(p.cmdline))
        .map((p) => p.pid);
    for (const how of ['end', 'SIGINT', 'SIGKILL'] as const) {
      const secs = uniqueSleep();
      const running = (): Proc[] => processes().filter((p) => p.cmdline === `sleep ${secs}` && p.state !== 'Z');
      const args = ['interval', '--every', '200ms', '--times', how === 'end' ? '5' : '100', '--', 'sleep', how === 'end' ? '0.1' : secs];
      const child = spawn(process.execPath, [RPR, ...args], { stdio: 'ignore', env: { ...process.env, RPR_CONFIG: undefined, XDG_CONFIG_HOME: '/nonexistent' } });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      let launcher: number[] = [];
      for (let i = 0; i < 150 && launcher.length === 0 && child.exitCode === null; i++) {
        await sleep(20);
        launcher = launcherOf(child.pid!);
      }
      expect(launcher, how).toHaveLength(1);
      if (how !== 'end') {
        // Once the job runs (before that, rpr has no signal handlers yet).
        for (let i = 0; i < 150 && running().length === 0; i++) await sleep(20);
        child.kill(how);
      }
      const code = await exited;
      if (how === 'end') expect(code).toBe(0);
      if (how === 'SIGINT') expect(code).toBe(130);
      await sleep(100);
      expect(
        processes().filter((p) => p.pid === launcher[0] && p.state !== 'Z'),
        how,
      ).toEqual([]);
      if (how === 'SIGINT') expect(running()).toEqual([]);
      // What rpr -9 leaves behind is not the launcher's doing.
      for (const p of running()) process.kill(p.pid, 'SIGKILL');
    }
  });
});

describe.skipIf(!available)('executor plugin runs (a working directory of their own)', () => {
  // The executor fixture runs its program with the command's arguments in the plan's cwd (rpr's).
  const executor = (program: string) => configFile(`[plugins.executor]\nprogram = "${program}"\n[plugins.executor.permissions]\nexec = ["${program}"]\n`);

  it('are started by the launcher, in the directory the plan names', async () => {
    const dir = realpathSync(tempDir());
    const r = await rpr(['count', '--times', '2', '--config', executor('env'), '--executor', 'executor', '-v', '--', 'sh', '-c', 'pwd; cat /proc/$PPID/comm'], {
      env: withPlugins(pluginDir('executor')),
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${dir}\npython3\n`.repeat(2));
    expect(r.stderr).toContain('rpr: runs are started by the launcher');
    expect(r.stderr).not.toContain('execa');
  });

  for (const [how, env] of [
    ['launcher', {}],
    ['execa', EXECA],
  ] as const) {
    it(`a directory gone before a run fails that run with one line, and the job goes on (${how})`, async () => {
      const dir = realpathSync(tempDir());
      const gone = join(dir, 'gone');
      mkdirSync(gone);
      // Run 1 removes rpr's own working directory: runs 2 and 3 cannot start there.
      const script = join(dir, 'remove.sh');
      writeFileSync(script, `#!/bin/sh\n[ "$RPR_RUN" = 1 ] && rmdir "${gone}"\nexit 0\n`, { mode: 0o755 });
      const r = await rpr(['count', '--times', '3', '--json', '--config', executor('env'), '--executor', 'executor', '--', script], {
        env: { ...withPlugins(pluginDir('executor')), ...env },
        cwd: gone,
      });
      expect(r.code).toBe(1);
      const runs = lines(r.stdout).map((l) => JSON.parse(l));
      expect(runs.map((x) => [x.run, x.success, x.decided_by])).toEqual([
        [1, true, 'exit-code'],
        [2, false, 'spawn-error'],
        [3, false, 'spawn-error'],
      ]);
      expect(lines(r.stderr)).toEqual([
        `rpr: run 2 not started: working directory ${gone} does not exist`,
        `rpr: run 3 not started: working directory ${gone} does not exist`,
        'rpr: job ended (times): 2 of 3 runs failed, 2 could not start; exit 1',
      ]);
    });
  }
});
