import { defineConfig } from 'vitest/config';

/**
 * Files whose assertions are about time (start-time error, drift, grace periods, --for, slots across
 * instances): they run in a group of their own, one file at a time, after everything else, so that
 * no other rpr process competes with them for the two cores they were written for. `npm test`
 * (scripts/test.mjs) runs the projects named timing... in a vitest run of their own, after the others.
 */
const TIMING = [
  'test/e2e/core-timing.test.ts',
  'test/e2e/core-start-times.test.ts',
  'test/e2e/core-overlap.test.ts',
  'test/e2e/core-stop-conditions.test.ts',
  'test/e2e/core-signals.test.ts',
  'test/e2e/core-clock.test.ts',
  'test/e2e/coordinate.test.ts',
  'test/e2e/coordinate-clock.test.ts',
  'test/e2e/coordinate-failover.test.ts',
  'test/e2e/coordinate-lease.test.ts',
];

/** The core end-to-end files run once more with runs started through execa instead of the launcher. */
const EXECA_TIMING = ['test/e2e/core-timing.test.ts', 'test/e2e/core-overlap.test.ts', 'test/e2e/core-signals.test.ts'];

/**
 * `npm test` (scripts/test.mjs) sets RPR_COVERAGE_DIR: every rpr process the untimed tests start
 * writes V8 coverage there (the test workers themselves are measured by vitest's own provider); the
 * script adds both up. Not in the timing groups: coverage costs a process about a third more CPU and
 * writes a file of about 1 MB as it exits, which is what those files measure.
 */
const covered = process.env.RPR_COVERAGE_DIR ? { NODE_V8_COVERAGE: process.env.RPR_COVERAGE_DIR } : {};

/**
 * End-to-end workers run file after file in one process: a fresh process per file costs about a second.
 * No end-to-end file changes process-wide state (env, cwd, mocks, listeners) that a later one would
 * see, and each stops what it starts. The unit files keep a process each: Node writes the V8 coverage
 * of a test process (and of the plugin worker threads it started) only when it exits, and a reused
 * worker is stopped rather than left to exit.
 */
const reused = { isolate: false };

export default defineConfig({
  test: {
    // Builds the hostile and well-behaved test plugins from their AssemblyScript sources (cached).
    globalSetup: ['test/plugins/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Projects of one group share one worker count (vitest requires it); groups run one after the other.
    // Two for the untimed group, one per core: it is bound by CPU (a run with three workers took as
    // long, 437 s against 436 s, and loaded the machine more).
    maxWorkers: 2,
    // The last line of a run: every skipped test, counted, and the reasons the tests printed.
    reporters: ['default', './test/helpers/skip-summary.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], env: covered, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'e2e', ...reused, include: ['test/e2e/**/*.test.ts'], exclude: TIMING, env: covered, sequence: { groupOrder: 0 }, maxConcurrency: 4 } },
      // Runs start through the launcher where python3 is, else through execa: the core end-to-end
      // tests run once more with the launcher off, so that both paths stay equal.
      {
        extends: true,
        test: {
          name: 'e2e via execa',
          ...reused,
          include: ['test/e2e/core-*.test.ts'],
          // core-cli-usage: usage errors end before any run is started, so the path that starts runs
          // does not matter there (its few jobs are core-timing's and core-output's here).
          exclude: [...TIMING, 'test/e2e/core-clock.test.ts', 'test/e2e/core-cli-usage.test.ts'],
          env: { ...covered, RPR_LAUNCHER: '0' },
          sequence: { groupOrder: 0 },
          maxConcurrency: 4,
        },
      },
      { extends: true, test: { name: 'timing', ...reused, include: TIMING, sequence: { groupOrder: 1 }, maxWorkers: 1, maxConcurrency: 1 } },
      { extends: true, test: { name: 'timing via execa', ...reused, include: EXECA_TIMING, env: { RPR_LAUNCHER: '0' }, sequence: { groupOrder: 2 }, maxWorkers: 1, maxConcurrency: 1 } },
    ],
  },
});
