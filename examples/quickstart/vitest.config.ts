import { defineConfig } from 'vitest/config';

// The test drives the example through child processes (the quire CLI and
// node), the way the README tells a user to run it.
export default defineConfig({ test: { include: ['*.test.ts'], testTimeout: 60_000 } });
