#!/usr/bin/env node
// Speed figures for rpr (issues 7 and 14), each measured side by side with a baseline in the same
// process tree and the same minute (rpr and its baseline alternate). Writes docs/BENCHMARKS.md
// (BENCH_OUT=path to write elsewhere, BENCH_OUT=- for none) and prints it; BENCH_REPEAT=N repeats
// each figure N times (default 3); BENCH_ONLY=startup,runs,plugins,timing,output,memory runs only those parts.
// Exits 0 whether or not the targets are met: the report says which are.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { log, REPEAT, ROOT, rows } from './bench/common.mjs';
import { memory, throughput } from './bench/output.mjs';
import { plugins } from './bench/plugins.mjs';
import { machine, markdown } from './bench/report.mjs';
import { perRun, timing } from './bench/runs.mjs';
import { startup } from './bench/startup.mjs';

const OUT = process.env.BENCH_OUT ?? path.join(ROOT, 'docs/BENCHMARKS.md');
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const TMP = mkdtempSync(path.join(os.tmpdir(), 'rpr-bench-'));
const part = (name) => !ONLY || ONLY.has(name);

const started = new Date();
const t0 = performance.now();
const m = machine();
log(`rpr bench: ${m.cores} x ${m.cpu}, node ${m.node}, load ${m.load[0].toFixed(2)}, medians of ${REPEAT}`);
try {
  if (part('startup')) startup(TMP);
  if (part('runs')) await perRun();
  if (part('plugins')) await plugins();
  if (part('timing')) timing();
  if (part('output')) await throughput(TMP);
  if (part('memory')) await memory();
} finally {
  rmSync(TMP, { recursive: true, force: true });
}
const find = (start) => rows.find((r) => r.name.startsWith(start));
const floors = floorNotes(find);
const report = markdown(m, os.loadavg(), started, (performance.now() - t0) / 1000, floors);
if (OUT !== '-') {
  writeFileSync(OUT, report);
  log(`wrote ${path.relative(process.cwd(), OUT) || OUT}`);
}
process.stdout.write(report);

/** What stands between a target and the figure, from this run's floor rows. */
function floorNotes(find) {
  const notes = [];
  const printer = find('floor: an ES module');
  const spawner = find('floor: Node starting one process');
  if (printer) notes.push(`\`rpr --version\` cannot be faster than Node loading one ES module that prints a line: ${printer.ratio} of \`node -e 0\` in this run.`);
  if (spawner) notes.push(`A 1-run job cannot be faster than Node starting one process and waiting for it: ${spawner.ratio} of \`node -e 0\` in this run; rpr adds its CLI, the job, the launcher (python3, started while rpr loads) and the end of the job (every process the job started is looked for in /proc).`);
  notes.push('A run started by rpr costs a message to the launcher and its reply on top of the fork and exec that the shell loop pays too.');
  return notes;
}
