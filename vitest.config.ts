import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Builds the hostile and well-behaved test plugins from their AssemblyScript sources (cached).
    globalSetup: ['test/plugins/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Timing-sensitive end-to-end tests share a 2-core machine: keep parallelism modest.
    maxWorkers: 2,
    maxConcurrency: 4,
    pool: 'forks',
    // The last line of a run: every skipped test, counted, and the reasons the tests printed.
    reporters: ['default', './test/helpers/skip-summary.ts'],
    projects: [
      { extends: true, test: { name: 'rpr', include: ['test/**/*.test.ts'] } },
      // Runs start through the launcher where python3 is, else through execa: the core end-to-end
      // tests run once more with the launcher off, so that both paths stay equal.
      { extends: true, test: { name: 'core via execa', include: ['test/e2e/core-*.test.ts'], env: { RPR_LAUNCHER: '0' } } },
    ],
  },
});
