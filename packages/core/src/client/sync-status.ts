/** Where the sync connection is. */
export type ConnectionState =
  | 'connecting'
  | 'connected'
  /** The server runs a newer app version: calls still sync, but may be refused with `update_required`; ask the user to reload. */
  | 'update_required'
  /** The server runs an older app version (a deploy is rolling out): changes stay queued until a server of this version answers. */
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
   * take `lsn` back to it, never below.
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
}
