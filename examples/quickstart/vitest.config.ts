import { defineConfig } from 'vitest/config';

// No source condition here: the example runs against the built packages,
// exactly as an app would.
export default defineConfig({ test: { include: ['*.test.ts'], testTimeout: 60_000 } });
