import { defineConfig } from 'vitest/config';

// These suites pack the packages and use them the way an app outside this
// repository does: through tarballs, plain npm and child processes. The
// packages' dist must be built (turbo builds them before `test`).
export default defineConfig({
  test: {
    include: ['*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    // npm install compiles better-sqlite3 from source where no prebuilt binary downloads (~90 s).
    hookTimeout: 360_000,
  },
});
