#!/usr/bin/env node
// Prints how long each test file took, slowest first, from vitest's JSON report (.ci/run writes it):
// the files that make CI slow are named in every CI log, not found by guessing.
import { readFileSync } from 'node:fs';

// npm test writes one report per vitest run (the untimed projects, then the timing ones).
const files = process.argv.length > 2 ? process.argv.slice(2) : ['test-output/vitest.json'];
const rows = files
  .flatMap((file) => JSON.parse(readFileSync(file, 'utf8')).testResults)
  .map((r) => ({
    file: r.name.replace(`${process.cwd()}/`, ''),
    ms: r.endTime - r.startTime,
    tests: r.assertionResults.length,
    failed: r.assertionResults.filter((a) => a.status === 'failed').length,
  }))
  .sort((a, b) => b.ms - a.ms);
const total = rows.reduce((sum, r) => sum + r.ms, 0);
console.log(`test files by duration (${rows.length} files, ${(total / 1000).toFixed(0)} s of test time; projects run some of them twice):`);
for (const r of rows) console.log(`${(r.ms / 1000).toFixed(1).padStart(7)} s  ${String(r.tests).padStart(4)} tests${r.failed ? ` (${r.failed} failed)` : ''}  ${r.file}`);
