import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Local PostgreSQL/MariaDB, else containers (Docker), else one clear failure; see docs/testing.md.
    globalSetup: ['../test-databases/src/global-setup.ts'],
    // Real databases and real subprocesses (SIGKILLed on purpose) on a shared 2-core CI machine.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Crash and multi-process tests start their own processes; running files in parallel would
    // only make their timings noisier.
    fileParallelism: false,
  },
});
