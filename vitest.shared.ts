import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources in tests, so no build
// is needed between an edit and a test run.
const conditions = ['quire-source', 'module', 'node', 'development|production'];

/**
 * For suites that run in Node only (the server, the integration tests):
 * without the "module" condition. The AWS SDK's packages list their "module"
 * build (for bundlers, with extensionless imports Node cannot load) before
 * their "node" one.
 */
export const nodeConditions = conditions.filter((c) => c !== 'module');

export const sharedConfig = defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
