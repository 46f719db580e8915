#!/usr/bin/env node
import { main } from './program.js';

// A reader that went away (`rpr --help | head -1`) is not an error: what is left to write is
// dropped. A job notices it too and stops (app/execute-job.ts).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}

// exitCode, not exit(): lets stdout drain when it is a slow pipe.
process.exitCode = await main(process.argv.slice(2));
