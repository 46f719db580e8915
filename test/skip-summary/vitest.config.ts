import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['test/skip-summary/*.fixture.ts'], reporters: ['default', './test/helpers/skip-summary.ts'] },
});
