import { createClient, type ClientOptions, type QuireClient, type Reducers } from '@quire/core';

/**
 * Clients for any URL (e.g. a proxy in front of the harness's server) with
 * the harness's fast reconnect, closed together at the end of a test.
 */
export class ClientPool<R extends Reducers> {
  private readonly clients: QuireClient<R>[] = [];

  constructor(
    private readonly reducers: R,
    private readonly url: string,
  ) {}

  client(options: Partial<Omit<ClientOptions<R>, 'reducers'>> = {}): QuireClient<R> {
    const client = createClient({
      url: this.url,
      docId: 'doc',
      reducers: this.reducers,
      reconnect: { minDelayMs: 10, maxDelayMs: 200 },
      ...options,
    });
    this.clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close()));
  }
}

/** Runs `body`; if it throws, the error message names the seed that reproduces it. */
export async function withSeed<T>(seed: number, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    const hint = `[reproduce with QUIRE_SEED=${seed}]`;
    console.error(`seeded test failed ${hint}`);
    if (error instanceof Error) error.message = `${error.message}\n${hint}`;
    throw error;
  }
}

/** Resolves with `promise`, or fails with `message` after `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, message: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for: ${message()}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
