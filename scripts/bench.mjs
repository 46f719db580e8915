#!/usr/bin/env node
// Speed figures for rpr (issues 7 and 14), each measured side by side with a baseline in the same
// process tree and the same minute (rpr and its baseline alternate). Writes docs/BENCHMARKS.md
// (BENCH_OUT=path to write elsewhere, BENCH_OUT=- for none) and prints it; BENCH_REPEAT=N repeats
// each figure N times (default 3); BENCH_ONLY=startup,runs,plugins,timing,output,memory,coordination,up runs only those parts
// (up: BENCH_UP_JOBS, default 200, BENCH_UP_SECONDS, default 60, and BENCH_UP_BASELINE=0 to leave out the
// N separate processes, which take a 2-core machine for minutes).
// Exits 0 whether or not the targets are met: the report says which are.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { log, REPEAT, ROOT, row, rows } from './bench/common.mjs';
import { benchCoordination } from './bench/coordination.mjs';
import { memory, throughput } from './bench/output.mjs';
import { plugins } from './bench/plugins.mjs';
import { machine, markdown } from './bench/report.mjs';
import { perRun, timing } from './bench/runs.mjs';
import { startup } from './bench/startup.mjs';
import { upLoad } from './bench/up.mjs';

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
  if (part('coordination')) await benchCoordination({ row });
  if (part('up')) await upLoad(TMP);
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
  const x = (r) => Number.parseFloat(r?.ratio ?? 'NaN');
  const [printer, commander, spawner, job] = ['floor: a file that prints', 'floor: a commander program parsing', 'floor: Node starting one process', 'a 1-run job'].map(find);
  if (printer) notes.push(`\`rpr --version\` cannot be faster than Node running one file that prints a line: ${printer.ratio} of \`node -e 0\` in this run.`);
  if (commander && spawner && job) {
    const floor = x(commander) + x(spawner) - 1;
    notes.push(
      `A 1-run job of a commander CLI cannot be faster than commander parsing its options (${commander.ratio}) plus Node starting one process (${spawner.ratio}, so +${(x(spawner) - 1).toFixed(2)}): about ${floor.toFixed(2)}x of \`node -e 0\` in this run, against rpr's ${job.ratio}. ` +
        "What rpr adds on top: its own CLI (the option catalog, help texts, value parsing), the job's modules, the launcher's start (a fork of Node, some 5 ms on this machine, while rpr loads; python3 starts on the other core) and the end of the job (the launcher's descendants read from /proc for what a run left behind). Node's young-generation collections while the code loads are a tenth of the CPU profile.",
    );
  }
  const [helpFloor, version, pluginHelp] = ['floor: a commander program printing', '`rpr --version`', '`rpr fibonacci --help` (the CLI'].map(find);
  if (printer && helpFloor && version && pluginHelp) {
    const overPrinter = Number.parseFloat(helpFloor.ratio);
    const versionOverPrinter = Number.parseFloat(version.value) - Number.parseFloat(printer.value);
    notes.push(
      `Any commander program that prints fibonacci's help (the same options, descriptions and headings, and nothing of rpr) costs ${helpFloor.ratio} over a file that prints one line; \`rpr --version\` is ${versionOverPrinter.toFixed(1)} ms over that file. So printing this help with commander costs about ${(overPrinter - versionOverPrinter).toFixed(1)} ms over \`rpr --version\` before rpr does anything of its own, against the +10 ms target; rpr's figure is ${pluginHelp.ratio}, ${(Number.parseFloat(pluginHelp.ratio) - (overPrinter - versionOverPrinter)).toFixed(1)} ms above that floor. ` +
        "What rpr adds: finding the plugin (the build's manifest index, the user's plugin folder and plugins.lock), the subcommand built from its manifest, the option catalog with its aliases, and the modules that hold them (compiled from the V8 code cache the build makes: docs/ARCHITECTURE.md).",
    );
  }
  const [floorRun, perRun] = [find('floor: the launcher alone'), find('per-run cost of `rpr count')];
  if (floorRun && perRun) {
    notes.push(
      `A run started through the launcher costs a message to it and its replies (started, then exit) on top of the fork and exec that the shell loop pays too: driven by a bare Node script with nothing of rpr's job around it, the launcher alone costs ${floorRun.ratio} of the \`sh\` loop in this run, rpr's job ${perRun.ratio}.`,
    );
  }
  const [extism, pluginJob] = [find('floor: Extism alone'), find('a 1-run job with a scheduler plugin')];
  if (extism && pluginJob) {
    notes.push(
      `Running a plugin under Extism at all (loading the SDK, hashing and compiling the wasm, one call) costs ${extism.ratio} over \`node -e 0\` in a bare script in this run: ${Number.parseFloat(extism.ratio) > 25 ? 'more than the +25 ms target by itself' : 'under the +25 ms target, so this floor alone does not stop it'}. rpr's plugin job already loads the plugin while the launcher starts, and adds its plugin host's modules (manifest, permissions, the memory cap and call limits) and the plugin subcommand's CLI code: ${pluginJob.ratio} over the core job, ${(Number.parseFloat(pluginJob.ratio) - Number.parseFloat(extism.ratio)).toFixed(1)} ms above this floor.`,
    );
  }
  if (find('a scheduler plugin')) {
    notes.push(
      "The plugin rows measure the plugin host of this commit: scheduler plugins on rpr's own thread (a worker only for plugins that need HTTP or files), the bundled plugins found in the manifest index the build writes (no plugin.toml read, no wasm hashed until one is loaded), the launcher started while the plugin loads. " +
        "What is left between a plugin job and a core one is loading the plugin host (its modules, node:crypto for the wasm's hash and @extism/extism's 158 KB) and compiling the plugin's wasm; the help row pays for the plugin subcommands' chunk (discovery, the manifest index, the integrity checks of user plugins), which `count --help` does not load.",
    );
  }
  return notes;
}
