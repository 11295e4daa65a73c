/**
 * Runs the `quire` CLI from the server's TypeScript sources, for tests that
 * need a real server process. Launch with
 * `node --conditions=quire-source --import tsx helpers/quire-cli-entry.ts serve …`.
 */
import { main } from '../../packages/server/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: { code?: string; message?: string }) => {
    process.stderr.write(`quire: ${error?.code ? `[${error.code}] ` : ''}${error?.message ?? String(error)}\n`);
    process.exit(1);
  },
);
