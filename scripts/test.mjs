#!/usr/bin/env node
// `npm test` (after the build): the whole suite, and the line coverage of src/ it reaches, gated.
// Both halves of the suite are measured:
// - the test workers (unit tests import src/ directly): vitest's V8 provider;
// - every rpr process the end-to-end tests start: V8 coverage written by Node (NODE_V8_COVERAGE),
//   mapped back to src/ by c8 through the bundle's source maps (rollup's, which follow esbuild's and tsc's), so the
//   tests run the bundle that ships.
// The two are merged per file line by line and printed by folder; the run fails when a test fails or
// when fewer than --min (default 90) percent of src/ lines ran.
// Usage: node scripts/test.mjs [--min N] [--report-only] [vitest args]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import libCoverage from 'istanbul-lib-coverage';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = path.join(ROOT, 'coverage');
const args = process.argv.slice(2);
const minAt = args.indexOf('--min');
const min = minAt >= 0 ? Number(args.splice(minAt, 2)[1]) : 90;
// --report-only: add up what the last run wrote to coverage/, without building or testing.
const reportOnly = args.includes('--report-only');

/** Runs a command to its end, its output passed through; resolves to its exit status. */
const run = (cmd, argv, env = {}) => new Promise((resolve) => spawn(cmd, argv, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } }).on('close', (code) => resolve(code ?? 1)));

/**
 * Linux's idle scheduling class (and idle I/O class): a process in it gets a core only when nothing
 * else wants one, and gives it up the moment something does. Elsewhere, nothing overlaps.
 */
const IDLE = ['chrt', '--idle', '0', 'ionice', '-c', '3'];
const idle = spawnSync(IDLE[0], [...IDLE.slice(1), 'true']).status === 0 ? IDLE : [];

const raw = path.join(OUT, 'processes');
// c8 reads every process's V8 coverage (about 1 MB each, over a thousand per run) on one core: the
// files are dealt out to one c8 per core, each reporting on its share, and the shares are added up
// line by line below.
const parts = Math.max(1, Math.min(os.availableParallelism(), 4));
const shares = Array.from({ length: parts }, (_, i) => path.join(OUT, `processes-${i}`));
const reportOn = (dir) => {
  const [cmd, ...argv] = [
    ...idle,
    'npx',
    'c8',
    'report',
    '--temp-directory',
    dir,
    '--report-dir',
    `${dir}-report`,
    '--reporter',
    'json',
    // No --include: with `--include 'src/**'`, c8 10.1 reported every line of an esbuild chunk's
    // sources as run (src/up/history.ts: 100%, where v8-to-istanbul on the same file says 57%). The
    // loop below keeps src/.
    '--exclude-after-remap',
    '--all',
    '--src',
    'src',
  ];
  return run(cmd, argv);
};
const report = () => {
  for (const dir of shares) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }
  (existsSync(raw) ? readdirSync(raw) : []).forEach((file, i) => linkSync(path.join(raw, file), path.join(shares[i % parts], file)));
  return Promise.all(shares.map(reportOn));
};

const vitest = (argv, env = {}) => run('npx', ['vitest', 'run', ...argv], env);
const coverage = [
  '--coverage.enabled',
  '--coverage.provider=v8',
  '--coverage.include=src/**/*.ts',
  '--coverage.reporter=json',
  '--coverage.reportOnFailure',
  `--coverage.reportsDirectory=${path.join(OUT, 'workers')}`,
];
let tests = 0;
if (!reportOnly) rmSync(OUT, { recursive: true, force: true });
if (reportOnly) await report();
else if (args.some((arg) => arg === '--project' || arg.startsWith('--project='))) {
  tests = await vitest([...coverage, ...args], { RPR_COVERAGE_DIR: raw });
  await report();
} else {
  // Two vitest runs: the untimed projects, measured; then the timing projects (vitest.config.ts
  // names them timing...), alone and not measured. c8's report on the first run's processes is
  // made meanwhile, in the idle class: the timing tests leave most of the two cores idle for four
  // minutes, and a timing test's process takes its core back the moment it wakes.
  // A JSON report asked for (.ci/run's, for the durations) gets one file per run.
  const timingArgs = args.map((arg) => arg.replace(/^(--outputFile\.json=.*?)(\.json)?$/, '$1-timing.json'));
  const untimed = await vitest([...coverage, '--project', '!timing*', '--passWithNoTests', ...args], { RPR_COVERAGE_DIR: raw });
  const reported = report();
  const timed = await vitest(['--project', 'timing*', '--passWithNoTests', ...timingArgs]);
  await reported;
  tests = untimed || timed;
}

const read = (file) => {
  if (existsSync(file)) return libCoverage.createCoverageMap(JSON.parse(readFileSync(file, 'utf8')));
  console.error(`coverage: ${path.relative(ROOT, file)} is missing`);
  return libCoverage.createCoverageMap({});
};
const linesOf = (map, file) => (map.files().includes(file) ? map.fileCoverageFor(file).getLineCoverage() : {});
const ran = (lines) => Object.values(lines).some((n) => n > 0);
const reports = shares.map((dir) => read(path.join(`${dir}-report`, 'coverage-final.json')));
/**
 * One file's lines over all shares. A share that never loaded the file counts every line of its
 * source (`--all`), while one that ran it counts the lines its source map reaches: the lines are
 * those of the shares that ran it, as one c8 over all the files would count them.
 */
const processLines = (file) => {
  const each = reports.map((map) => linesOf(map, file));
  const running = each.filter(ran);
  const merged = {};
  for (const lines of running.length ? running : each.slice(0, 1)) {
    for (const [line, n] of Object.entries(lines)) merged[line] = (merged[line] ?? 0) + n;
  }
  return merged;
};
const workers = read(path.join(OUT, 'workers', 'coverage-final.json'));

/** A module of types only compiles to `export {};`: nothing in it can run, so nothing is counted. */
const typesOnly = (rel) => {
  // tsc's output of src/cli/ is in dist/cli-modules/ (scripts/bundle.mjs).
  const js = path.join(
    ROOT,
    'dist',
    rel
      .replace(/^src\/cli\//, 'cli-modules/')
      .replace(/^src\//, '')
      .replace(/\.ts$/, '.js'),
  );
  return (
    existsSync(js) &&
    readFileSync(js, 'utf8')
      .replace(/\/\/.*$/gm, '')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .trim() === 'export {};'
  );
};

const folders = new Map();
const add = (key, covered, total) => {
  const f = folders.get(key) ?? { covered: 0, total: 0 };
  folders.set(key, { covered: f.covered + covered, total: f.total + total });
};
for (const file of [...new Set(reports.flatMap((map) => map.files()))].sort()) {
  const rel = path.relative(ROOT, file);
  // The page's script runs in the browser (test/e2e/up-page.test.ts drives it in Chromium), where no
  // Node coverage reaches it: it is left out rather than counted as never run.
  if (!rel.startsWith('src/') || rel.startsWith('src/ui/assets/') || !/\.(ts|js)$/.test(rel) || typesOnly(rel)) continue;
  const lines = processLines(file);
  const alsoRun = linesOf(workers, file);
  const keys = Object.keys(lines);
  const covered = keys.filter((line) => lines[line] > 0 || alsoRun[line] > 0).length;
  add(path.dirname(rel), covered, keys.length);
  add('', covered, keys.length);
}
const total = folders.get('');
folders.delete('');
const pct = (c) => (c.total ? (100 * c.covered) / c.total : 100);
const show = (c) => `${pct(c).toFixed(1).padStart(5)}%  ${String(c.covered).padStart(5)} / ${c.total}`;
for (const [folder, c] of [...folders].sort()) console.log(`${show(c)}  ${folder}`);
console.log(`line coverage of src/: ${pct(total).toFixed(1)}% (${total.covered} of ${total.total} lines; target ${min}%)${tests === 0 ? '' : ', with failing tests'}`);
process.exit(tests !== 0 || pct(total) < min ? 1 : 0);
