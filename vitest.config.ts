import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Timing-sensitive end-to-end tests share a 2-core machine: keep parallelism modest.
    maxWorkers: 2,
    pool: 'forks',
  },
});
