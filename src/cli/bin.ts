#!/usr/bin/env node
import { main } from './program.js';

// exitCode, not exit(): lets stdout drain when it is a slow pipe.
process.exitCode = await main(process.argv.slice(2));
