import { describe, expect, it } from 'vitest';
import { rpr } from '../helpers/cli.js';

/**
 * Invocations of the Go rpr's documented command line (its README, USAGE and flag table,
 * ../shared/reference/anchor-swi-repeater-v0.5.1.md section 1.3), each with `-- true`.
 * Every one must be accepted (no usage error) and do its job: exit 0 for a command that succeeds.
 * Durations are shortened so the suite stays fast; the flags and their spellings are the Go rpr's.
 */
const GO_INVOCATIONS: string[][] = [
  // interval / int / i
  ['interval', '--every', '100ms', '--times', '2'],
  ['int', '-e', '100ms', '-t', '2'],
  ['i', '-e', '100ms', '-t', '2'],
  ['interval', '--every', '100ms', '--for', '250ms'],
  ['interval', '-e', '100ms', '-f', '250ms'],
  ['interval', '-e', '100ms', '-t', '2', '--quiet'],
  ['interval', '-e', '100ms', '-t', '2', '-q'],
  ['interval', '-e', '100ms', '-t', '2', '--verbose'],
  ['interval', '-e', '100ms', '-t', '2', '-v'],
  ['interval', '-e', '100ms', '-t', '2', '--stats-only'],
  ['interval', '-e', '100ms', '-t', '2', '--stream'],
  ['interval', '-e', '100ms', '-t', '2', '-s'],
  ['interval', '-e', '100ms', '-t', '2', '-v', '-s'],
  ['interval', '-e', '100ms', '-t', '2', '--output-prefix', '[health]'],
  ['interval', '-e', '100ms', '-t', '2', '-o', '[health] '],
  ['interval', '-e', '100ms', '-t', '2', '--success-pattern', '.*'],
  ['interval', '-e', '100ms', '-t', '2', '--failure-pattern', 'ERROR|FATAL', '--case-insensitive'],
  ['interval', '-e', '100ms', '-t', '2', '--success-pattern', '(?i)^$|ok'],
  ['interval', '-e', '100ms', '-t', '2', '--failure-pattern', '(?P<code>5\\d\\d)'],
  ['interval', '-e', '100ms', '-t', '2', '--http-aware'],
  ['interval', '-e', '100ms', '-t', '2', '--http-aware', '--http-max-delay', '5m', '--http-min-delay', '1s'],
  ['interval', '-e', '100ms', '-t', '2', '--http-aware', '--http-parse-json', '--http-parse-headers'],
  ['interval', '-e', '100ms', '-t', '2', '--http-aware', '--http-no-parse-json', '--http-no-parse-headers'],
  ['interval', '-e', '100ms', '-t', '2', '--http-aware', '--http-trust-client', '--http-custom-fields', 'retry_after,wait_seconds'],
  ['interval', '-e', '100ms', '-t', '2', '--enable-metrics', '--metrics-port', '0'],
  // count / cnt / c
  ['count', '--times', '2'],
  ['cnt', '-t', '2'],
  ['c', '-t', '2', '-e', '50ms'],
  ['count', '--times', '2', '--every', '50ms', '--stats-only'],
  // duration / dur / d
  ['duration', '--for', '200ms'],
  ['dur', '-f', '200ms', '-e', '50ms'],
  ['d', '-f', '200ms', '-e', '50ms', '-q'],
  // cron / cr (a far-off fire time, ended by --for)
  ['cron', '--cron', '0 9 * * 1-5', '--for', '200ms'],
  ['cr', '--cron', '@hourly', '--timezone', 'UTC', '--for', '200ms'],
  ['cron', '--cron', '*/15 * * * *', '--tz', 'America/New_York', '--for', '200ms'],
  ['cron', '--cron', '@daily', '--for', '200ms'],
  // adaptive / adapt / a
  ['adaptive', '--base-interval', '100ms', '--times', '2'],
  ['adapt', '-b', '100ms', '-t', '2'],
  ['a', '-b', '100ms', '--min-interval', '50ms', '--max-interval', '1s', '-t', '2'],
  ['adaptive', '-b', '100ms', '--slow-threshold', '2.0', '--fast-threshold', '0.5', '--failure-threshold', '0.3', '-t', '2'],
  ['adaptive', '-b', '100ms', '--show-metrics', '-t', '2'],
  ['a', '-b', '100ms', '-m', '-t', '2'],
  // load-adaptive / load / la
  ['load-adaptive', '--base-interval', '100ms', '--times', '2'],
  ['load', '-b', '100ms', '-t', '2'],
  ['la', '-b', '100ms', '--target-cpu', '70', '--target-memory', '80', '--target-load', '1.0', '-t', '2'],
  ['la', '-b', '100ms', '--min-interval', '50ms', '--max-interval', '1s', '-t', '2'],
  // rate-limit / rate / rl / r
  ['rate-limit', '--rate', '10/1s', '--times', '2'],
  ['rate', '-r', '10/1s', '-t', '2'],
  ['rl', '-r', '10/1s', '--retry-pattern', '0,100ms', '-t', '2'],
  ['r', '-r', '10/1s', '-p', '0', '-n', '-t', '2'],
  ['rl', '-r', '10/1s', '--show-next', '-t', '2'],
  // the strategies
  ['exponential', '--base-delay', '50ms', '--attempts', '2'],
  ['exp', '-bd', '50ms', '-md', '1s', '--multiplier', '2', '-a', '2'],
  ['backoff', '--initial', '50ms', '--max', '1s', '-a', '2'],
  ['fibonacci', '--base-delay', '50ms', '--max-delay', '1s', '--attempts', '2'],
  ['fib', '-bd', '50ms', '-a', '2'],
  ['linear', '--increment', '50ms', '--attempts', '2'],
  ['lin', '-inc', '50ms', '-md', '1s', '-a', '2'],
  ['polynomial', '--base-delay', '50ms', '--exponent', '2', '--attempts', '2'],
  ['poly', '-bd', '50ms', '-exp', '1.5', '-a', '2'],
  ['decorrelated-jitter', '--base-delay', '50ms', '--multiplier', '3', '--attempts', '2'],
  ['dj', '-bd', '50ms', '-md', '1s', '-a', '2'],
];

describe('the Go rpr command line', () => {
  it.each(['-v', '--version', '-h', '--help'])('rpr %s exits 0', async (flag) => {
    const r = await rpr([flag]);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
  });

  it.concurrent.each(GO_INVOCATIONS.map((args) => [args.join(' '), args] as const))('rpr %s -- true is accepted', async (_name, args) => {
    const r = await rpr([...args, '--', 'true'], { timeoutMs: 30_000 });
    expect(r.stderr).not.toMatch(/^rpr: (unknown|unexpected|.* does not apply|.* cannot be used|.*expected)/m);
    expect(r.code).toBe(0);
  });
});
