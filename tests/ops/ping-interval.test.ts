import { afterEach, expect, test } from 'vitest';
import { CutProxy } from '../helpers/cut-proxy.js';
import { LEDGER_REDUCERS_FILE } from '../helpers/ledger-reducers.js';
import { openRaw } from '../helpers/raw-socket.js';
import { scratchDirs } from '../helpers/scratch-dirs.js';
import { killAllServerProcesses, startServerProcess } from '../helpers/server-process.js';
import { waitFor } from '../helpers/wait-for.js';

/*
 * `quire serve --ping-interval-ms` reaches the server's liveness check: a
 * real server process drops a half-open connection and says it judged it at
 * that interval. (That the check drops such connections at all is
 * tests/presence's, through the library option.) Not shorter: a live client
 * must answer a ping within one interval, even on a busy machine.
 */
const scratch = scratchDirs();
afterEach(() => killAllServerProcesses());

/** The JSON log lines a server process printed. */
const logLines = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string; silentMs?: number });

test('quire serve --ping-interval-ms 1000 closes a half-open connection as silent for over 2000 ms (two intervals; the default says 4000)', async () => {
  const server = await startServerProcess({ reducers: LEDGER_REDUCERS_FILE, dataDir: scratch.make('ping'), args: ['--ping-interval-ms', '1000', '--log-json'] });
  const proxy = await CutProxy.start(server.url);
  const socket = await openRaw(proxy.url, 'ledger');
  try {
    await socket.hello('zed');
    // The network goes silent both ways, and no FIN or RST ever comes.
    proxy.stall(true);
    const dropped = () => logLines(server.output()).filter((line) => line.msg.startsWith('closed a connection silent for over'));
    await waitFor(() => dropped().length > 0, `the server to drop the silent connection; output:\n${server.output()}`);
    expect(dropped()).toEqual([expect.objectContaining({ silentMs: 2000 })]);
  } finally {
    await socket.close();
    await proxy.close();
  }
});
