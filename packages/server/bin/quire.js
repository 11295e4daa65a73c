#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`quire: ${error?.code ? `[${error.code}] ` : ''}${error?.message ?? error}\n`);
    process.exit(1);
  },
);
