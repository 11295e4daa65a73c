/** Where the sync connection is. */
export type ConnectionState = 'connecting' | 'connected' | 'offline' | 'unauthorized' | 'closed';

/** What `client.status()` returns. */
export interface SyncStatus {
  connection: ConnectionState;
  /** Mutations applied locally and not yet settled by the server. */
  pending: number;
  /** The server LSN the local base is at (0 before the first snapshot). */
  lsn: number;
  /** The last error the server or the socket reported, if any. */
  lastError: { code: string; message: string } | undefined;
  /**
   * True after `disconnect()` (or `offline: true`) until `connect()`: the
   * client stays offline on purpose. A dropped socket also reads `offline`,
   * but with this false, since the client keeps trying to reconnect.
   */
  offlineByChoice: boolean;
}
