import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources in tests, so no build
// is needed between an edit and a test run.
const conditions = ['quire-source', 'module', 'node', 'development|production'];

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
