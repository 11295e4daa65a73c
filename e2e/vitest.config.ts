import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../vitest.shared.ts';

export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      include: ['src/**/*.test.ts'],
      // Each file starts a demo server and a Chromium; two cores cannot run two at once well.
      fileParallelism: false,
      testTimeout: 60_000,
      hookTimeout: 90_000,
      // A hung browser must not hang CI.
      teardownTimeout: 20_000,
    },
  }),
);
