import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Local PostgreSQL/MariaDB, else containers (Docker), else one clear failure; see docs/testing.md.
    globalSetup: ['../test-databases/src/global-setup.ts'],
    // Real databases and a real KMS protocol server, shared with other packages' suites on a
    // loaded CI machine; the fuzz files run ~100,000 cases.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
