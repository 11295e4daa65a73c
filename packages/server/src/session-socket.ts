/**
 * What a {@link Session} needs of its connection: a `ws` WebSocket in the
 * thread that owns the socket, or a `WorkerSocket` standing in for one in a
 * document worker (see workers/). Both deliver the same events.
 */
export interface SessionSocket {
  /** Bytes queued for the client and not yet written to the network. */
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  /** Stop reading the client's frames (a limit is reached); `resume` reads again. */
  pause(): void;
  resume(): void;
  close(code: number, reason: string): void;
  terminate(): void;
  on(event: 'message', listener: (data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean) => void): this;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}
