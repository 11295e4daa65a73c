import type { WebSocket } from 'ws';
import { ProtocolError } from '@quire/core';
import { ID_RULE, PROTOCOL_VERSION, decodeClientMessage, encodeMessage, isValidClientId, type ClientMessage } from '@quire/core/protocol';
import type { Coordinator, Peer } from './coordinator/coordinator.js';
import type { DocumentRegistry } from './document-registry.js';

/** Close codes Quire uses (4000–4999 are for applications). */
export const CLOSE = { protocolError: 4400, unauthorized: 4401, serverError: 4500 } as const;

/**
 * One client connection to one document: the handshake, then pushes. Each
 * message is handled in arrival order; a bad frame gets an error and closes
 * this connection only.
 */
export class Session implements Peer {
  clientId = '';
  private coordinator: Coordinator | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly docId: string,
    readonly userId: string | undefined,
    private readonly registry: DocumentRegistry,
    readonly maxMessageBytes: number,
  ) {
    socket.on('message', (data, isBinary) => {
      this.chain = this.chain.then(() => this.receive(data as Buffer | Buffer[] | ArrayBuffer, isBinary));
    });
    socket.on('close', () => this.dispose());
    socket.on('error', () => this.dispose());
  }

  send(bytes: Uint8Array): void {
    if (!this.closed) this.socket.send(bytes);
  }

  sendError(code: string, message: string, seq: number, fatal: boolean): void {
    if (this.closed) return;
    this.socket.send(encodeMessage({ type: 'error', code, message, seq, fatal }));
    if (fatal) this.close(code === 'unauthorized' ? CLOSE.unauthorized : code === 'server_error' ? CLOSE.serverError : CLOSE.protocolError, code);
  }

  private async receive(data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): Promise<void> {
    if (this.closed) return;
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!isBinary) return this.sendError('malformed_frame', 'text frames are not part of the Quire protocol — send binary frames', 0, true);
    let message: ClientMessage;
    try {
      message = decodeClientMessage(bytes, { maxBytes: this.maxMessageBytes });
    } catch (error) {
      const code = error instanceof ProtocolError ? error.code : 'malformed_frame';
      return this.sendError(code, error instanceof Error ? error.message : String(error), 0, true);
    }
    try {
      if (message.type === 'hello') await this.hello(message);
      else if (!this.coordinator) this.sendError('unexpected_message', 'push before hello — send hello first', 0, true);
      else if (message.type === 'getPages') this.coordinator.readPages(this, message.id, message.pgnos.map((p) => p.pgno));
      else if (message.type === 'forget') this.coordinator.forget(this, message.pgnos.map((p) => p.pgno));
      else this.coordinator.push(this, message.mutations);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'server_error';
      this.sendError(code, error instanceof Error ? error.message : String(error), 0, true);
    }
  }

  private async hello(message: Extract<ClientMessage, { type: 'hello' }>): Promise<void> {
    if (this.clientId) return this.sendError('unexpected_message', 'a second hello on one connection — open a new connection instead', 0, true);
    if (message.protocolVersion !== PROTOCOL_VERSION) {
      return this.sendError('unsupported_version', `client speaks protocol ${message.protocolVersion}, this server speaks ${PROTOCOL_VERSION} — upgrade the older side`, 0, true);
    }
    if (!isValidClientId(message.clientId)) {
      return this.sendError('invalid_client_id', `clientId "${message.clientId.slice(0, 200)}" is not valid — ${ID_RULE}`, 0, true);
    }
    this.clientId = message.clientId;
    const coordinator = await this.registry.acquire(this.docId);
    if (this.closed) {
      this.registry.release(this.docId);
      return;
    }
    this.coordinator = coordinator;
    coordinator.join(this, message.lastLsn, message.fromSeq, message.partial, message.held.map((p) => p.pgno));
  }

  private close(code: number, reason: string): void {
    if (this.closed) return;
    this.socket.close(code, reason);
    this.dispose();
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.coordinator) {
      this.coordinator.leave(this);
      this.registry.release(this.docId);
    }
  }
}
