import type { ClientInspection } from '../client/inspection.js';
import type { PresencePeer } from '../client/presence.js';
import type { SyncStatus } from '../client/sync-status.js';
import { MutationRejectedError, QuireError } from '../errors.js';
import type { Row, SqlParams } from '../reducers/tx.js';
import type { QueryStats } from '../engine/engine.js';
import type { RowChange } from './row-change.js';

/**
 * Messages between a tab's client and the engine host (a shared or dedicated
 * worker), sent with postMessage over one MessagePort per tab and document.
 * Structured clone carries the values, so arguments keep Dates, Maps and
 * BigInts without an extra encoding step.
 */
export type TabMessage =
  | { t: 'open'; docId: string; url: string; params: Record<string, string> | undefined; userId: string | undefined; offline: boolean }
  | { t: 'mutate'; id: number; name: string; args: unknown }
  | { t: 'query'; id: number; sql: string; params: SqlParams | undefined; measure?: boolean }
  | { t: 'subscribe'; id: number; sql: string; params: SqlParams | undefined }
  | { t: 'unsubscribe'; id: number }
  | { t: 'hydrate'; id: number }
  | { t: 'synced'; id: number }
  | { t: 'inspection'; id: number }
  // The tab has inspection listeners (or no longer has): the worker streams inspections while on.
  | { t: 'watchInspection'; on: boolean }
  // The tab's presence state (null clears it); the host keeps it under the tab's own key.
  | { t: 'presence'; state: unknown }
  | { t: 'connect' }
  | { t: 'disconnect' }
  | { t: 'close' };

export type HostMessage =
  | { t: 'ready'; clientId: string }
  | { t: 'status'; status: SyncStatus }
  | { t: 'local'; id: number; seq: number; error?: WireError }
  | { t: 'server'; id: number; lsn?: number; error?: WireError }
  | { t: 'result'; id: number; rows?: Row[]; stats?: QueryStats; inspection?: ClientInspection; error?: WireError }
  | { t: 'inspection'; inspection: ClientInspection }
  // Everyone's presence but this tab's, whenever it changes.
  | { t: 'others'; others: readonly PresencePeer<unknown>[] }
  // Only what changed since the subscription's last rows message (the first one carries every row).
  | { t: 'rows'; id: number; change: RowChange }
  | { t: 'progress'; id: number; pages: number; total: number }
  | { t: 'queryError'; id: number; error: WireError }
  | { t: 'fatal'; error: WireError };

/** An error as it crosses a thread: enough to rebuild the typed error on the other side. */
export interface WireError {
  name: string;
  code: string | undefined;
  message: string;
  reducer?: string;
  seq?: number;
}

export function toWireError(error: unknown): WireError {
  if (error instanceof MutationRejectedError) {
    return { name: error.name, code: error.code, message: error.message, reducer: error.reducer, seq: error.seq };
  }
  if (error instanceof QuireError) return { name: error.name, code: error.code, message: error.message };
  if (error instanceof Error) return { name: error.name, code: undefined, message: error.message };
  return { name: 'Error', code: undefined, message: String(error) };
}

export function fromWireError(wire: WireError): Error {
  if (wire.reducer !== undefined && wire.code !== undefined) return new MutationRejectedError(wire.code, wire.message, wire.reducer, wire.seq ?? 0);
  if (wire.code !== undefined) {
    const error = new QuireError(wire.code, wire.message);
    error.name = wire.name;
    return error;
  }
  const error = new Error(wire.message);
  error.name = wire.name;
  return error;
}

/** The part of MessagePort (and of a dedicated worker's scope) the RPC uses. */
export interface PortLike {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
  /**
   * Called when the port now leads to a new engine (the leader tab changed):
   * the tab opens again. `undelivered` are the messages it posted that
   * reached no engine (no leader was listening); the port drops them, and
   * the tab sends again those that still matter. Any other message in flight
   * may or may not have been handled by the old engine.
   */
  onreset?: ((undelivered: readonly unknown[]) => void) | null;
}
