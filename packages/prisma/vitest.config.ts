import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Integration tests talk to real PostgreSQL and MariaDB servers shared with other packages.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
