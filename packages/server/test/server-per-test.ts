import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type QuireClient, type Reducers, createClient } from '@quire/core';
import { type SyncServer, type SyncServerOptions, createSyncServer } from '../src/sync-server.js';

/**
 * One sync server per test, on a fresh temporary data directory, with the clients the test opens on it.
 * Made at a suite's top level, it registers an `afterEach` that closes the clients, then the server
 * (which drains), and removes the directory, so every test starts from nothing.
 */
export class ServerPerTest<R extends Reducers> {
  #server: SyncServer<R> | undefined;
  #clients: QuireClient<R>[] = [];
  #dataDir = '';

  constructor(
    private readonly reducers: R,
    private readonly dirPrefix: string,
  ) {
    afterEach(() => this.#end());
  }

  /** This test's data directory, made on first use. */
  get dataDir(): string {
    this.#dataDir ||= mkdtempSync(join(tmpdir(), this.dirPrefix));
    return this.#dataDir;
  }

  /** The server this test made with `create()` or `start()`. */
  get server(): SyncServer<R> {
    if (!this.#server) throw new Error('this test has not made a server yet: call create() or start() first');
    return this.#server;
  }

  /** A server on this test's data directory, not listening yet. */
  create(options: Omit<SyncServerOptions<R>, 'reducers' | 'dataDir'> = {}): SyncServer<R> {
    this.#server = createSyncServer({ reducers: this.reducers, dataDir: this.dataDir, ...options });
    return this.#server;
  }

  /** A server on this test's data directory, listening on a free port of 127.0.0.1; its `ws://` URL. */
  async start(options: Omit<SyncServerOptions<R>, 'reducers' | 'dataDir'> = {}): Promise<string> {
    return (await this.create(options).listen(0)).url;
  }

  /** A client of `docId` on the server at `url`, closed after the test. */
  client(url: string, docId: string, clientId: string): QuireClient<R> {
    const c = createClient({ url, docId, reducers: this.reducers, clientId });
    this.#clients.push(c);
    return c;
  }

  async #end(): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.close()));
    this.#clients = [];
    await this.#server?.close();
    this.#server = undefined;
    if (this.#dataDir) rmSync(this.#dataDir, { recursive: true, force: true });
    this.#dataDir = '';
  }
}
