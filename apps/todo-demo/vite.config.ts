import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  // @quire/react and the app must share one React.
  resolve: { dedupe: ['react', 'react-dom'] },
  // Pre-bundling would move sqlite-wasm's module away from sqlite3.wasm, which
  // it finds with new URL('sqlite3.wasm', import.meta.url).
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm'] },
  // sqlite-wasm references a module worker; only the ES format can bundle it.
  worker: { format: 'es' },
  build: { outDir: 'dist/public', emptyOutDir: true, target: 'es2022' },
  // `pnpm dev` serves the app with hot reload and forwards sync to a running
  // `pnpm start` (or to SYNC_TARGET, e.g. ws://127.0.0.1:9000).
  server: { proxy: { '/sync': { target: process.env.SYNC_TARGET ?? 'ws://127.0.0.1:8787', ws: true } } },
});
