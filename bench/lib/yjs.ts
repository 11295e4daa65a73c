import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

/**
 * The Yjs side of the todo workload, modelled the idiomatic way: a Y.Map
 * 'todos' keyed by id whose values are Y.Maps {title, completed}.
 */
export interface YjsClient {
  doc: Y.Doc;
  provider: WebsocketProvider;
  todos: Y.Map<Y.Map<unknown>>;
  /** Resolves once the provider got the server's state (sync step 2). */
  synced: Promise<void>;
  close(): void;
}

export function todosOf(doc: Y.Doc): Y.Map<Y.Map<unknown>> {
  return doc.getMap<Y.Map<unknown>>('todos');
}

export function addTodo(doc: Y.Doc, id: string, title: string): void {
  todosOf(doc).set(id, new Y.Map<unknown>([['title', title], ['completed', false]]));
}

export function addTodos(doc: Y.Doc, todos: Array<{ id: string; title: string }>): void {
  doc.transact(() => {
    for (const { id, title } of todos) addTodo(doc, id, title);
  });
}

export function toggle(doc: Y.Doc, id: string): void {
  const todo = todosOf(doc).get(id)!;
  todo.set('completed', !todo.get('completed'));
}

/** Every todo as a plain row, like `SELECT id, title, completed FROM todos`. */
export function readAll(doc: Y.Doc): Array<{ id: string; title: string; completed: boolean }> {
  const rows: Array<{ id: string; title: string; completed: boolean }> = [];
  todosOf(doc).forEach((todo, id) => rows.push({ id, title: todo.get('title') as string, completed: todo.get('completed') as boolean }));
  return rows;
}

/**
 * A y-websocket client. BroadcastChannel is off: in one Node process it
 * would carry updates between providers without the server. Presence
 * (awareness) is off too: Quire has none, and with it every client would
 * broadcast a heartbeat to every other one every 15 s.
 */
export function yjsClient(url: string, room: string): YjsClient {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    connect: false,
  });
  provider.awareness.setLocalState(null);
  const synced = new Promise<void>((resolve) => {
    const onSync = (state: boolean) => {
      if (!state) return;
      provider.off('sync', onSync);
      resolve();
    };
    provider.on('sync', onSync);
  });
  provider.connect();
  return {
    doc,
    provider,
    todos: todosOf(doc),
    synced,
    close() {
      provider.destroy();
      doc.destroy();
    },
  };
}
