import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Local PostgreSQL/MariaDB, else containers (Docker), else one clear failure; see docs/testing.md.
    globalSetup: ['../test-databases/src/global-setup.ts'],
    // Integration tests talk to real PostgreSQL and MariaDB servers shared with other packages.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
