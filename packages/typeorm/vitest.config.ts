import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Local PostgreSQL/MariaDB, else containers (Docker), else one clear failure; see docs/testing.md.
    globalSetup: ['../test-databases/src/global-setup.ts'],
    // Real databases; a slow CI runner should not turn into flaky failures.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
