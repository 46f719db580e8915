#!/usr/bin/env node
// Prints every failed test with the start of its failure message, from vitest's JSON reports.
// .ci/run calls it last: a CI log is often read from its end, where the default reporter's account
// of a failure (printed minutes earlier, before the timing tests) is long gone.
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
const failed = files
  .flatMap((file) => JSON.parse(readFileSync(file, 'utf8')).testResults)
  .flatMap((r) => r.assertionResults.filter((a) => a.status === 'failed').map((a) => ({ file: r.name.replace(`${process.cwd()}/`, ''), test: a.fullName, messages: a.failureMessages })));
if (failed.length === 0) process.exit(0);
console.log(`== ${failed.length} failed test${failed.length === 1 ? '' : 's'}`);
for (const f of failed) {
  console.log(`FAILED ${f.file} > ${f.test}`);
  // The assertion and the first frames: enough to tell which expectation broke and where.
  const text = f.messages.join('\n').replace(/\x1b\[[0-9;]*m/g, '');
  for (const line of text.split('\n').slice(0, 12)) console.log(`  ${line.slice(0, 300)}`);
}
