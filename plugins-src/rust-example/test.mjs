#!/usr/bin/env node
// This plugin's test, through rpr itself, as a user would run it: build, check it against rpr's
// plugin contract (rpr plugins validate), install it into a throwaway plugin folder, run a job.
//
//   node test.mjs        (npm test)
//
// rpr is found through $RPR (its dist/cli/bin.js or an executable), then package.json "rpr.home"
// (the rpr this project was made with), then `rpr` on PATH.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const toml = readFileSync(path.join(ROOT, 'plugin.toml'), 'utf8');
const NAME = /^name\s*=\s*"([^"]+)"/m.exec(toml)[1];
const KIND = /^kind\s*=\s*"([^"]+)"/m.exec(toml)[1];

function rprCommand() {
  const home = pkg.rpr?.home ? path.resolve(ROOT, pkg.rpr.home, 'dist', 'cli', 'bin.js') : undefined;
  const bin = process.env.RPR || (home && existsSync(home) ? home : 'rpr');
  return bin.endsWith('.js') ? [process.execPath, bin] : [bin];
}

const RPR = rprCommand();
const pluginDir = mkdtempSync(path.join(os.tmpdir(), `${NAME}-test-`));
let failures = 0;

function rpr(args) {
  const r = spawnSync(RPR[0], [...RPR.slice(1), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, RPR_PLUGIN_DIR: pluginDir, RPR_CONFIG: '' },
  });
  if (r.error) throw new Error(`cannot run rpr (${RPR.join(' ')}): ${r.error.message}; set $RPR to its bin.js`);
  return r;
}

function check(what, ok, detail) {
  console.log(`${ok ? 'ok' : 'not ok'} - ${what}`);
  if (!ok) {
    failures++;
    if (detail) console.log(`  ${String(detail).trim().split('\n').join('\n  ')}`);
  }
}

try {
  const build = spawnSync(process.execPath, [path.join(ROOT, 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
  check('builds', build.status === 0, build.stderr || build.stdout);
  if (build.status !== 0) process.exit(1);

  const validate = rpr(['plugins', 'validate', 'dist']);
  check('rpr plugins validate dist: no problems', validate.status === 0, validate.stdout + validate.stderr);

  const install = rpr(['plugins', 'install', 'dist', '--yes']);
  check(`installs into a fresh plugin folder`, install.status === 0, install.stdout + install.stderr);

  if (KIND === 'scheduler') {
    const failing = rpr([NAME, '--delay', '10ms', '--attempts', '3', '--', 'sh', '-c', 'echo run; exit 3']);
    check('a failing command runs --attempts times and the job ends with its exit code', failing.status === 3 && failing.stdout.split('\n').filter((l) => l === 'run').length === 3, `exit ${failing.status}\n${failing.stdout}${failing.stderr}`);
    const passing = rpr([NAME, '--', 'sh', '-c', 'echo run']);
    check('a succeeding command runs once', passing.status === 0 && passing.stdout.trim() === 'run', `exit ${passing.status}\n${passing.stdout}${passing.stderr}`);
  } else if (KIND === 'executor') {
    const r = rpr(['count', '--times', '2', '--executor', NAME, '--', 'sh', '-c', 'echo "via $RPR_EXECUTOR"']);
    check('runs go through the executor', r.status === 0 && r.stdout.trim() === `via ${NAME}\nvia ${NAME}`, `exit ${r.status}\n${r.stdout}${r.stderr}`);
    const labelled = rpr(['count', '--times', '1', '--executor', NAME, '--set', `${NAME}.label=custom`, '--', 'sh', '-c', 'echo "via $RPR_EXECUTOR"']);
    check('its setting is used', labelled.status === 0 && labelled.stdout.trim() === 'via custom', `exit ${labelled.status}\n${labelled.stdout}${labelled.stderr}`);
  } else {
    const r = rpr(['count', '--times', '2', '--output', NAME, '--', 'true']);
    check('the output sees every run end', r.status === 0 && r.stderr.includes(`${NAME}: run 1 ended: exit 0`) && r.stderr.includes(`${NAME}: run 2 ended: exit 0`), `exit ${r.status}\n${r.stdout}${r.stderr}`);
    const prefixed = rpr(['count', '--times', '1', '--output', NAME, '--set', `${NAME}.prefix=custom`, '--', 'false']);
    check('its setting is used', prefixed.stderr.includes('custom: run 1 ended: exit 1'), `exit ${prefixed.status}\n${prefixed.stdout}${prefixed.stderr}`);
  }
} finally {
  rmSync(pluginDir, { recursive: true, force: true });
}
console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exitCode = failures ? 1 : 0;
