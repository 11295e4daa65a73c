/**
 * The todo demo's server as the next deploy would run it: the demo's
 * reducers unchanged, one app version up (`defineApp`). Pages running the
 * built demo are then an older version: they must show the update banner.
 * Takes the flags of the demo's `npm start` that the suite uses
 * (`--port`, `--host`, `--data`) and prints the same "todo demo: <url>" line.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defineApp } from '@quire/core';
import { appVersionOf } from '@quire/core/internal';
import { reducers } from '../../../apps/todo-demo/src/reducers.js';
import { startDemoServer } from '../../../apps/todo-demo/src/server/demo-server.js';

const demoDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../apps/todo-demo');
const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' }, data: { type: 'string' } } });
if (!values.data) throw new Error('next-version-demo: pass --data <dir>');

const next = defineApp({ version: appVersionOf(reducers) + 1, reducers: reducers.definitions });
const server = await startDemoServer({ staticDir: join(demoDir, 'dist', 'public'), dataDir: resolve(values.data), port: Number(values.port), host: values.host, reducers: next });
process.stdout.write(`todo demo: ${server.url}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
