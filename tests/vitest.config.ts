import { nodeConditions as conditions, sharedConfig } from '../vitest.shared.ts';

export default {
  ...sharedConfig,
  resolve: { ...sharedConfig.resolve, conditions },
  ssr: { ...sharedConfig.ssr, resolve: { ...sharedConfig.ssr!.resolve, conditions } },
  test: {
    ...sharedConfig.test,
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'packaging/**'],
    // Suites start servers and child processes: run them one file at a time.
    fileParallelism: false,
    testTimeout: 120_000,
  },
};
