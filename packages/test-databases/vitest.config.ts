import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The probe of an unroutable address waits for its timeout.
    testTimeout: 10_000,
  },
});
