import { defineConfig } from 'vitest/config';

// One browser session drives the built site; the build (when stale) happens in beforeAll.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
