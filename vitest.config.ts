import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds the hostile and well-behaved test plugins from their AssemblyScript sources (cached).
    globalSetup: ['test/plugins/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Timing-sensitive end-to-end tests share a 2-core machine: keep parallelism modest.
    maxWorkers: 2,
    maxConcurrency: 4,
    pool: 'forks',
  },
});
