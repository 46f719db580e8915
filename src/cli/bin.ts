#!/usr/bin/env node
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitCodeFor, formatError } from '../errors/exit-codes.js';
import { RprError } from '../errors/index.js';
import { VERSION } from '../version.js';
import { scanArgs } from './argv.js';
import { compileWithCodeCache } from './code-cache.js';
import { NO_JOB_WORDS } from './names.js';

// A reader that went away (`rpr --help | head -1`) is not an error: what is left to write is
// dropped (a job stops: app/execute-job.ts). Output that cannot be written at all (a full disk)
// is said once, on stderr, and fails the invocation.
let unwritable: RprError | undefined;
let code: number | undefined;
/** A job stopped by its output (0, or 141 as for a closed pipe) still failed when nothing could be written. */
const settle = (): void => {
  if (code !== undefined) process.exitCode = unwritable && (code === 0 || code === 141) ? exitCodeFor(unwritable) : code;
};
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED' || unwritable) return;
  unwritable = new RprError('E_OUTPUT', `cannot write to standard output: ${error.message}`, { hint: 'check where stdout goes: a full disk, a file that cannot grow' });
  process.stderr.write(`${formatError(unwritable)}\n`);
  // (The error may come after main() has returned: a write is reported on the next tick.)
  settle();
});
// Nowhere left to say anything.
process.stderr.on('error', () => undefined);

/**
 * A job (a subcommand with a command after --, a scheduler plugin's included, or `run NAME`), and no
 * help asked for: its launcher (python3, ~30 ms to start) is started before the CLI loads, so that
 * it is ready by the first run, in parallel with loading the CLI and a plugin. A guess only: a
 * command line that turns out to be no job (a usage error, a job whose runs need pipes) leaves
 * nothing behind, since the launcher ends with rpr, and a stop signal before the job's own handlers
 * exist (Ctrl-C during a long plugin load) ends it before rpr ends (app/signals.ts).
 */
function looksLikeJob(argv: readonly string[]): boolean {
  const { help, word, command } = scanArgs(argv);
  if (help || word === undefined || NO_JOB_WORDS.has(word)) return false;
  return word === 'run' || (command !== null && command.length > 0);
}

/** The invocation's exit status. Not top-level await: the bundle rpr runs is CommonJS (scripts/bundle.mjs). */
async function run(args: string[]): Promise<number> {
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    // The one answer that needs no command-line parser: loading commander and the CLI would more
    // than double the time of printing a line known already.
    process.stdout.write(`rpr ${VERSION}\n`);
    return 0;
  }
  const here = path.dirname(fileURLToPath(import.meta.url));
  if (looksLikeJob(args)) {
    // Not imported above: --version loads none of these. A job sets a V8 flag, and V8's flags are
    // part of a code cache's key: it is set before the first cached chunk compiles, and a job's
    // chunks have caches of their own.
    (await import('../app/steady-gc.js')).keepSmallHeapSteady();
    compileWithCodeCache(here, 'job');
    const [{ startLauncher, endLaunchers }, { holdStopSignals }] = await Promise.all([import('../run/spawn.js'), import('../app/signals.js')]);
    void startLauncher();
    holdStopSignals(endLaunchers);
  } else compileWithCodeCache(here, 'cli');
  const { main } = await import('./program.js');
  return main(args);
}

void run(process.argv.slice(2)).then((exit) => {
  code = exit;
  // exitCode, not exit(): lets stdout drain when it is a slow pipe.
  settle();
});
