import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The SDK warns once per process that its 2027 releases will need Node 22; not news in tests.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // The smoke run drives real SQLite files and a local KMS server on a shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
