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
    class GatedWebSocket extends WebSocket {
      override set onmessage(handler: Handler) {
        super.onmessage = handler
          ? (event: { data: unknown }) => {
              if (gate.holding && isPages(event.data)) {
                gate.held++;
                return;
              }
              handler(event);
            }
          : null;
      }
      override get onmessage(): Handler {
        return super.onmessage as Handler;
      }
    }
    this.WebSocket = GatedWebSocket as unknown as WebSocketConstructor;
  }
}

function isPages(data: unknown): boolean {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array);
  return decodeServerMessage(bytes).type === 'pages';
}
