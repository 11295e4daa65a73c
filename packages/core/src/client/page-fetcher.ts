import { QuireError } from '../errors.js';
import type { Connection } from './connection.js';

// Pages per request: 4 MiB answers keep hydrate's progress visible.
export const PAGE_REQUEST_BATCH = 1024;

/** The client's outstanding page requests: one per batch of pages, deduplicated by page. */
export class PageFetcher {
  private nextId = 1;
  private readonly requests = new Map<number, { pgnos: number[]; resolve(): void; reject(error: unknown): void }>();
  private readonly inFlight = new Map<number, Promise<void>>();

  /** Asks for the pages not already on their way; resolves once all of them were applied. */
  fetch(pgnos: readonly number[], conn: Connection | undefined): Promise<void> {
    if (!conn) return Promise.reject(offlineError(pgnos.length));
    const waits: Promise<void>[] = [];
    const wanted: number[] = [];
    for (const pgno of new Set(pgnos)) {
      const pending = this.inFlight.get(pgno);
      if (pending) waits.push(pending);
      else wanted.push(pgno);
    }
    for (let i = 0; i < wanted.length; i += PAGE_REQUEST_BATCH) {
      const batch = wanted.slice(i, i + PAGE_REQUEST_BATCH);
      const id = this.nextId++;
      const done = new Promise<void>((resolve, reject) => this.requests.set(id, { pgnos: batch, resolve, reject }));
      done.catch(() => {});
      for (const pgno of batch) this.inFlight.set(pgno, done);
      waits.push(done);
      if (!conn.send({ type: 'getPages', id, pgnos: batch.map((pgno) => ({ pgno })) })) this.fail(id, offlineError(batch.length));
    }
    return Promise.all(waits).then(() => undefined);
  }

  /** The request an answer is for, no longer outstanding. */
  take(id: number): { resolve(): void; reject(error: unknown): void } | undefined {
    const request = this.requests.get(id);
    if (!request) return undefined;
    this.requests.delete(id);
    for (const pgno of request.pgnos) this.inFlight.delete(pgno);
    return request;
  }

  /** The connection dropped: answers will not come. */
  failAll(): void {
    for (const id of [...this.requests.keys()]) this.fail(id, offlineError(this.requests.get(id)!.pgnos.length));
  }

  private fail(id: number, error: unknown): void {
    this.take(id)?.reject(error);
  }
}

/** A read needs pages and there is no connection to fetch them over. */
export function offlineError(pages: number): QuireError {
  return new QuireError(
    'offline_missing_pages',
    `this read needs ${pages} page(s) the local replica does not hold, and the client is offline — reconnect, or call client.hydrate() while online to keep the whole document for offline use`,
  );
}
