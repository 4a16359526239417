import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Real databases; a slow CI runner should not turn into flaky failures.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
