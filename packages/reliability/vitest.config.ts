import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Real databases and a real KMS protocol server, shared with other packages' suites on a
    // loaded CI machine; the fuzz files run ~100,000 cases.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
