import type { PortLike } from './rpc.js';

/** What tabs say to each other on the document's BroadcastChannel. */
type TabSignal =
  | { kind: 'leader' }
  | { kind: 'hello'; from: string }
  | { kind: 'attached'; to: string }
  // `n` numbers a tab's messages to the leader, which acknowledges each with `got`.
  | { kind: 'up'; from: string; n: number; data: unknown }
  | { kind: 'got'; to: string; n: number }
  | { kind: 'down'; to: string; data: unknown };

/**
 * The fallback where SharedWorker is missing: tabs elect a leader with a Web
 * Lock; the leader runs the engine in a dedicated worker and relays the other
 * tabs' messages over a BroadcastChannel. When the leader tab closes, its
 * lock passes to another tab, which starts a worker (restored from
 * IndexedDB) and tells the others to open again.
 *
 * Between one leader's end and the next one's start nobody reads the
 * channel: a follower keeps each message until the leader acknowledges it,
 * and hands those that reached no leader back to the tab at the reset, to
 * send again to the new engine instead of failing them.
 */
export function connectToLeader(docId: string, makeWorker: () => Worker): PortLike {
  const tabId = randomTabId();
  const channel = new BroadcastChannel(`quire:tabs:${docId}`);
  let outbox: unknown[] = [];
  let everConnected = false;
  // Messages sent up to the leader and not yet acknowledged, by number.
  const unacked = new Map<number, unknown>();
  let sentUp = 0;
  // Where this tab's own messages go: the worker when leading, the channel when following.
  let deliver: ((data: unknown) => void) | undefined;

  const port: PortLike = {
    onmessage: null,
    onreset: null,
    postMessage(data) {
      if (deliver) deliver(data);
      else outbox.push(data);
    },
  };
  const receive = (data: unknown) => port.onmessage?.(new MessageEvent('message', { data }));
  const connected = (send: (data: unknown) => void) => {
    deliver = send;
    const undelivered = [...unacked.values(), ...outbox];
    unacked.clear();
    outbox = [];
    if (everConnected) port.onreset?.(undelivered);
    else for (const data of undelivered) send(data);
    everConnected = true;
  };

  const signal = (message: TabSignal) => channel.postMessage(message);
  const relays = new Map<string, MessagePort>();
  let worker: Worker | undefined;

  const attach = (onMessage: (data: unknown) => void): MessagePort => {
    const pipe = new MessageChannel();
    pipe.port1.onmessage = (event) => onMessage(event.data);
    worker!.postMessage({ t: 'attach' }, [pipe.port2]);
    return pipe.port1;
  };

  channel.onmessage = (event) => {
    const message = event.data as TabSignal;
    if (worker) {
      // Leading: relay for the other tabs.
      if (message.kind === 'hello') {
        relays.get(message.from)?.close();
        relays.set(message.from, attach((data) => signal({ kind: 'down', to: message.from, data })));
        signal({ kind: 'attached', to: message.from });
      } else if (message.kind === 'up') {
        // No relay: the tab wrote to the leader before this one (it says hello once it hears of this one).
        const relay = relays.get(message.from);
        if (!relay) return;
        relay.postMessage(message.data);
        signal({ kind: 'got', to: message.from, n: message.n });
        if ((message.data as { t?: string }).t === 'close') {
          relay.close();
          relays.delete(message.from);
        }
      }
      return;
    }
    if (message.kind === 'leader') {
      deliver = undefined;
      signal({ kind: 'hello', from: tabId });
    } else if (message.kind === 'attached' && message.to === tabId) {
      connected((data) => {
        unacked.set(++sentUp, data);
        signal({ kind: 'up', from: tabId, n: sentUp, data });
      });
    } else if (message.kind === 'got' && message.to === tabId) {
      // The leader relays in order: everything up to `n` reached it.
      for (const n of unacked.keys()) if (n <= message.n) unacked.delete(n);
    } else if (message.kind === 'down' && message.to === tabId) {
      receive(message.data);
    }
  };

  signal({ kind: 'hello', from: tabId });
  void navigator.locks.request(`quire:leader:${docId}`, () => {
    worker = makeWorker();
    worker.addEventListener('error', (event) => {
      const message = (event as ErrorEvent).message || 'the worker script failed to load or threw while starting';
      const error = { name: 'QuireError', code: 'worker_failed', message: `the Quire worker failed: ${message} — check the worker script and its URL` };
      receive({ t: 'fatal', error });
    });
    const own = attach(receive);
    connected((data) => own.postMessage(data));
    signal({ kind: 'leader' });
    // Held for the life of the tab.
    return new Promise<never>(() => {});
  });
  return port;
}

function randomTabId(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
