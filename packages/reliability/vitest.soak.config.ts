import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

// `pnpm test:soak`: the same suite with larger counts (see test/support/soak.ts).
export default mergeConfig(
  base,
  defineConfig({ test: { env: { FIELDSEAL_SOAK: '1' }, testTimeout: 1_800_000, hookTimeout: 120_000 } }),
);
