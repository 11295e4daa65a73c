import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../vitest.shared.ts';

export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      include: ['**/*.test.ts'],
      exclude: ['node_modules/**', 'packaging/**'],
      // Suites start servers and child processes: run them one file at a time.
      fileParallelism: false,
      testTimeout: 120_000,
    },
  }),
);
