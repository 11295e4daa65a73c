/** Where the sync connection is. */
export type ConnectionState =
  | 'connecting'
  | 'connected'
  /**
   * Welcomed by a server of a newer app version: the client syncs as when
   * `connected`, but calls of reducers the server no longer has are refused
   * with `update_required`. Ask the user to reload the app.
   */
  | 'update_required'
  /**
   * The server runs an older app version (a deploy is rolling out) and
   * refused this client (`server_outdated`), or cannot open a document a
   * newer version migrated (`schema_too_new`): changes stay queued and the
   * client retries with backoff until a newer server welcomes it.
   */
  | 'waiting_for_server'
  | 'offline'
  | 'unauthorized'
  | 'closed';

/** What `client.status()` returns. */
export interface SyncStatus {
  connection: ConnectionState;
  /** Mutations applied locally and not yet settled by the server. */
  pending: number;
  /** The server LSN the replica shows (0 before the first snapshot), including commits not yet durable. */
  lsn: number;
  /**
   * The server LSN of the durable base: the server's log holds every commit
   * up to it, and the local store keeps it. At most `lsn`; a server crash can
   * take `lsn` back to it, never below. A client with nothing pending hears
   * of durability with the next commit, or within 1 s; a commit of only
   * this client's calls reaches it (and moves `lsn`) once durable.
   */
  durableLsn: number;
  /** The last error the server or the socket reported, if any. */
  lastError: { code: string; message: string } | undefined;
  /**
   * True after `disconnect()` (or `offline: true`) until `connect()`: the
   * client stays offline on purpose. A dropped socket also reads `offline`,
   * but with this false, since the client keeps trying to reconnect.
   */
  offlineByChoice: boolean;
  /**
   * The app versions (`defineApp`; 0 = unversioned): the one this client
   * runs, and the server's from its last `welcome` (undefined before the
   * first; a server that refused this client as too new is not counted).
   */
  appVersion: AppVersions;
}

/** This client's app version and the server's, as `status().appVersion` shows them. */
export interface AppVersions {
  readonly client: number;
  readonly server: number | undefined;
}
