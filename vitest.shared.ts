import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources in tests, so no build
// is needed between an edit and a test run. No "module" condition: every
// suite runs in Node, and the AWS SDK's packages (which the server imports)
// list their "module" build, for bundlers, with extensionless imports Node
// cannot load, before their "node" one.
const conditions = ['quire-source', 'node', 'development|production'];

export const sharedConfig = defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits for a state the code reaches by itself; its default
    // 1 s limit was a timing assertion that failed on busy CI machines. The
    // test's own timeout is the real limit.
    expect: { poll: { timeout: 25_000 } },
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
