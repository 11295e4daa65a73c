import { appVersionOf } from '@quire/core/internal';
import type { PageImage } from '@quire/core/internal';
import { ClientConnections } from './client-connections.js';
import { DocumentRegistry, type RegistryOptions } from './document-registry.js';
import type { ServerLimits } from './limits.js';
import type { Logger } from './logger.js';
import { PresenceRooms } from './presence/presence-rooms.js';
import { Session, type SessionContext } from './session.js';
import type { SessionSocket } from './session-socket.js';

export interface DocumentHostOptions extends RegistryOptions {
  logger: Logger;
  maxMessageBytes: number;
  limits: ServerLimits;
}

/**
 * The documents one thread serves and their connections: the registry and
 * the sessions over it. The sync server runs one in its own thread, or one
 * in each document worker (workers/document-worker.ts): the same code.
 */
export class DocumentHost {
  readonly registry: DocumentRegistry;
  private readonly context: SessionContext;

  constructor(options: DocumentHostOptions) {
    const { limits, logger } = options;
    this.registry = new DocumentRegistry({ ...options, reducerTime: { reducerTimeMs: limits.reducerTimeMs, reducerPauseMs: limits.reducerPauseMs } });
    this.context = {
      registry: this.registry,
      maxMessageBytes: options.maxMessageBytes,
      limits,
      logger,
      connections: new ClientConnections<Session>(limits.maxConnectionsPerClient),
      appVersion: appVersionOf(options.reducers),
      presence: new PresenceRooms(),
    };
  }

  /** Serves a client's connection to `docId`, authorized as `userId`. */
  connect(socket: SessionSocket, docId: string, userId: string | undefined): void {
    new Session(socket, docId, userId, this.context);
  }

  /** A mutation that starts on the server (`argsJson` from `encodeArgs`); resolves once durable. */
  mutate(docId: string, name: string, argsJson: string, userId: string | undefined): Promise<{ lsn: number }> {
    return this.registry.with(docId, (c) => c.mutate(name, argsJson, userId));
  }

  snapshot(docId: string): Promise<{ lsn: number; pageCount: number; pages: PageImage[] }> {
    return this.registry.with(docId, (c) => c.snapshot());
  }

  /** Documents open now (or opening). */
  get documents(): number {
    return this.registry.size;
  }

  /** Finishes in-flight commits and closes every document. */
  close(): Promise<void> {
    return this.registry.close();
  }
}
