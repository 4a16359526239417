import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Local PostgreSQL/MariaDB, else containers (Docker), else one clear failure; see docs/testing.md.
    globalSetup: ['../test-databases/src/global-setup.ts'],
    // Property tests run hundreds of random sequences; leave room for a loaded CI machine.
    testTimeout: 120_000,
  },
});
