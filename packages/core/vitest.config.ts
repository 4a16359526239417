import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The fuzz properties run 10,000 cases each; under a full monorepo test run on two cores
    // they take well over vitest's 5 s default.
    testTimeout: 120_000,
  },
});
