import WebSocket from 'ws';
import type { WebSocketConstructor } from '@quire/core';
import { decodeServerMessage } from '@quire/core/protocol';

type Handler = ((event: { data: unknown }) => void) | null;

/**
 * A client's WebSocket that holds back the server's `pages` answers while
 * `holding` (everything else passes in order). An answer held when the
 * socket closes is lost, as one still on the wire would be: the race of
 * going offline while a page fetch is in flight, every time.
 */
export class PageAnswerGate {
  holding = true;
  /** Page answers held back so far. */
  held = 0;
  readonly WebSocket: WebSocketConstructor;

  constructor() {
    const gate = this;
    // `ws` defines onmessage as an accessor on its prototype: wrap it per socket.
    const inner = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage')!;
    class GatedWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        let current: Handler = null;
        Object.defineProperty(this, 'onmessage', {
          get: () => current,
          set: (handler: Handler) => {
            current = handler;
            const gated = (event: { data: unknown }) => {
              if (gate.holding && isPages(event.data)) {
                gate.held++;
                return;
              }
              handler?.(event);
            };
            inner.set!.call(this, handler ? gated : null);
          },
        });
      }
    }
    this.WebSocket = GatedWebSocket as unknown as WebSocketConstructor;
  }
}

function isPages(data: unknown): boolean {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array);
  return decodeServerMessage(bytes).type === 'pages';
}
