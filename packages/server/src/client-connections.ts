/**
 * The open connections of each client id to each document, oldest first, so
 * that one client id cannot hold more than `limit` of them.
 */
export class ClientConnections<C> {
  private readonly byClient = new Map<string, C[]>();

  constructor(private readonly limit: number) {}

  /** Adds `connection`; returns the oldest ones it pushes over the limit, which the caller closes. */
  add(docId: string, clientId: string, connection: C): C[] {
    const key = keyOf(docId, clientId);
    let list = this.byClient.get(key);
    if (!list) this.byClient.set(key, (list = []));
    list.push(connection);
    return list.length > this.limit ? list.splice(0, list.length - this.limit) : [];
  }

  remove(docId: string, clientId: string, connection: C): void {
    const key = keyOf(docId, clientId);
    const list = this.byClient.get(key);
    if (!list) return;
    const i = list.indexOf(connection);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byClient.delete(key);
  }

  count(docId: string, clientId: string): number {
    return this.byClient.get(keyOf(docId, clientId))?.length ?? 0;
  }
}

// Ids never contain NUL, so the key is unambiguous.
const keyOf = (docId: string, clientId: string) => `${docId}\u0000${clientId}`;
