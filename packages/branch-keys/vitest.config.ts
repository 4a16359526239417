import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Property tests run hundreds of random sequences; leave room for a loaded CI machine.
    testTimeout: 120_000,
  },
});
