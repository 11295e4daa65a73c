import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// jsdom for React Testing Library. The real client runs here too: Node loads
// sqlite-wasm from node_modules, so jsdom's globals do not get in the way.
export default mergeConfig(
  sharedConfig,
  defineConfig({ test: { environment: 'jsdom', include: ['src/**/*.test.tsx'], setupFiles: ['./test/setup.ts'] } }),
);
