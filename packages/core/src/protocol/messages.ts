import { message, t, type Infer, type MessageOf } from './schema.js';

/**
 * The version a client and server must agree on in hello/welcome.
 *
 * History — bump it, and the changed message's own `version`, whenever any
 * schema below changes (the schema-hash test fails until you do):
 *   1 — first release: hello, push, welcome, snapshot, commit, error.
 *   2 — welcome v2 carries the rejections of the client's pending mutations
 *       that it has not heard about, so a client that catches up through a
 *       snapshot still learns them, and the server's maxMessageBytes, so the
 *       client splits its pushes to fit.
 *   3 — partial replicas: hello v2 says whether the client wants every page
 *       or only page 1 at first, and which pages it still holds;
 *       getPages/pages fetch pages on demand; forget says which pages a
 *       client dropped; commit v2 sends a partial client images only of the
 *       pages it holds, and the numbers of the other changed pages.
 *   4 — wire efficiency: commit v3 may send a page as a delta from its
 *       previous image, which the receiver holds (XOR or copy/insert, see
 *       page/page-delta.ts), and the server may send any frame deflated
 *       (see frame-compression.ts).
 *   5 — each client gets only its own rejections: commit v4 carries none,
 *       and a new `rejections` message (tag 21) goes to a client right
 *       before the commit that refused some of its mutations. Every full
 *       replica still gets the same commit frame.
 *   6 — commits are seen before they are durable: the server broadcasts a
 *       commit once it is applied, and a new `durable` message (tag 22)
 *       says, in order on the same socket, up to which LSN the log is
 *       durable. A client keeps non-durable commits apart from its base.
 *   7 — commit v5: a changed page goes as a patch of its changed byte ranges
 *       (encoding 3) instead of an XOR of two 4 KB images (encoding 1,
 *       retired); frames under 512 bytes are no longer deflated.
 *   8 — app versions: hello v3 carries the client's appVersion, welcome v3
 *       the server's appVersion and the document's schemaVersion (see
 *       reducers/define-app.ts).
 *   9 — fewer bytes per edit: push v2 drops the superjson wrapper of plain
 *       arguments (reducer-args.ts) and sends "" for a reducer named like the
 *       previous mutation on the connection (reducer-names.ts); commit v6
 *       carries how far the log is durable (durableLag), so `durable` goes
 *       only to clients waiting on it, and its base LSN as `span` back from
 *       its LSN (1 byte); page deltas are binary (patch 4,
 *       copy/insert 5; 2 and 3 retired, see page/page-delta.ts).
 *  10 — commit v7: a page may go as a copy/insert delta from its own image
 *       and a sibling's (encoding 6), which is how a rebalanced b-tree
 *       page's new cells are found; push v3 sends plain-JSON arguments in
 *       a binary form without quotes or punctuation (reducer-args.ts).
 *  11 — presence: a client sets ephemeral states with `setPresence` (tag 5),
 *       one per small key of its connection (a browser engine's tabs share
 *       one connection); the server relays what changed to every client of
 *       the document in `presence` frames (tag 23), at most one per 50 ms.
 *       Never written to the log (see docs/PRESENCE.md).
 */
export const PROTOCOL_VERSION = 11;

const pageImage = t.struct({ pgno: t.varuint, data: t.bytes });
// encoding: 0 = data is the new image; 4 = a patch of the image at the
// commit's base LSN (lsn - span); 5 = a copy/insert delta from it; 6 = a
// copy/insert delta from it and a sibling page's image there (PageEncoding).
const pageChange = t.struct({ pgno: t.varuint, encoding: t.varuint, data: t.bytes });
const pageNumber = t.struct({ pgno: t.varuint });
// name: "" repeats the previous mutation's on the connection (reducer-names.ts);
// args: superjson text, sent packed in binary (reducer-args.ts).
const mutation = t.struct({ seq: t.varuint, name: t.string, args: t.args });
const rejection = t.struct({ clientId: t.string, seq: t.varuint, code: t.string, message: t.string });

const hello = message({
  tag: 1,
  version: 3,
  name: 'hello',
  from: 'client',
  // lastLsn 0: no snapshot yet. fromSeq: lowest seq still pending, 0 = none.
  // partial: a snapshot carries page 1 only; the client asks for the rest.
  // held: with partial, the pages it holds at lastLsn (their changes are sent).
  // appVersion: the app version the client runs (defineApp), 0 = unversioned.
  fields: {
    protocolVersion: t.varuint,
    appVersion: t.varuint,
    clientId: t.string,
    lastLsn: t.varuint,
    fromSeq: t.varuint,
    partial: t.bool,
    held: t.array(pageNumber),
  },
});

const push = message({
  tag: 2,
  version: 3,
  name: 'push',
  from: 'client',
  fields: { mutations: t.array(mutation) },
});

const getPages = message({
  tag: 3,
  version: 1,
  name: 'getPages',
  from: 'client',
  // id: echoed in the answer. Pages past the end of the document are skipped.
  fields: { id: t.varuint, pgnos: t.array(pageNumber) },
});

const forget = message({
  tag: 4,
  version: 1,
  name: 'forget',
  from: 'client',
  // Pages a partial client dropped: their changes need not be sent to it.
  fields: { pgnos: t.array(pageNumber) },
});

const presenceState = t.struct({ key: t.varuint, state: t.string });
// A state as relayed: whose it is (the client id and the key it set it under,
// the user its connection was authorized as, "" for none) and its JSON text.
const presencePeer = t.struct({ clientId: t.string, key: t.varuint, userId: t.string, state: t.string });

const setPresence = message({
  tag: 5,
  version: 1,
  name: 'setPresence',
  from: 'client',
  // Each state is JSON text under a key of this connection (0..MAX_PRESENCE_KEY),
  // "" clears it. Never written to the log; relayed to the document's clients.
  fields: { states: t.array(presenceState) },
});

const welcome = message({
  tag: 16,
  version: 3,
  name: 'welcome',
  from: 'server',
  // rejections: this client's rejected mutations with seq >= hello.fromSeq;
  // the client settles them with the snapshot or catch-up commit that follows.
  // maxMessageBytes: the largest frame the server accepts.
  // appVersion: the app version the server runs; schemaVersion: the
  // migrations the document ran (both 0 without defineApp).
  fields: {
    protocolVersion: t.varuint,
    appVersion: t.varuint,
    schemaVersion: t.varuint,
    rejections: t.array(rejection),
    lsn: t.varuint,
    maxMessageBytes: t.varuint,
  },
});

const snapshot = message({
  tag: 17,
  version: 1,
  name: 'snapshot',
  from: 'server',
  // Split across messages when large; the client applies it on done = true.
  fields: { lsn: t.varuint, pageCount: t.varuint, pages: t.array(pageImage), done: t.bool },
});

const commit = message({
  tag: 18,
  version: 7,
  name: 'commit',
  from: 'server',
  // pages: the changed pages the receiver holds (all, for a full replica),
  // whole or as deltas. forgotten: the other changed pages; a copy must go.
  // span: it applies on top of LSN lsn - span (1 for a live commit).
  // durableLag: the log is durable up to lsn - durableLag (0: this commit).
  fields: {
    lsn: t.varuint,
    span: t.varuint,
    pageCount: t.varuint,
    pages: t.array(pageChange),
    forgotten: t.array(pageNumber),
    durableLag: t.varuint,
  },
});

const rejections = message({
  tag: 21,
  version: 1,
  name: 'rejections',
  from: 'server',
  // The receiver's own mutations that commit `lsn` refused. Sent right before
  // that commit, on the same socket: the client settles them when it applies it.
  fields: { lsn: t.varuint, rejections: t.array(rejection) },
});

const durable = message({
  tag: 22,
  version: 1,
  name: 'durable',
  from: 'server',
  // Every commit up to `lsn` is durable in the server's log. Sent after those
  // commits on the same socket, at once to a client whose mutations they
  // settle, else when no commit (durableLag) said so soon after; a welcome,
  // snapshot, catch-up commit or pages answer is always at a durable LSN.
  fields: { lsn: t.varuint },
});

const pages = message({
  tag: 20,
  version: 1,
  name: 'pages',
  from: 'server',
  // The pages as of `lsn`: every commit up to `lsn` was sent before this.
  fields: { id: t.varuint, lsn: t.varuint, pageCount: t.varuint, pages: t.array(pageImage) },
});

const presence = message({
  tag: 23,
  version: 1,
  name: 'presence',
  from: 'server',
  // full: every state there is, replacing what the receiver knew (the first
  // frame after joining, or after a backlog); else what changed since the
  // last frame on this socket, state "" meaning it is gone. Latest wins; the
  // receiver's own states come back too (a browser's tabs share a connection).
  fields: { full: t.bool, peers: t.array(presencePeer) },
});

const error = message({
  tag: 19,
  version: 1,
  name: 'error',
  from: 'server',
  // seq 0: not about one mutation. fatal: the server closes the connection next.
  fields: { code: t.string, message: t.string, seq: t.varuint, fatal: t.bool },
});

export const MESSAGE_SCHEMAS = { hello, push, getPages, forget, setPresence, welcome, snapshot, commit, rejections, durable, pages, presence, error } as const;

/** The highest key a connection may set a presence state under (keys 0..63). */
export const MAX_PRESENCE_KEY = 63;

type Schemas = (typeof MESSAGE_SCHEMAS)[keyof typeof MESSAGE_SCHEMAS];

export type HelloMessage = MessageOf<typeof hello>;
export type PushMessage = MessageOf<typeof push>;
export type WelcomeMessage = MessageOf<typeof welcome>;
export type SnapshotMessage = MessageOf<typeof snapshot>;
export type CommitMessage = MessageOf<typeof commit>;
export type RejectionsMessage = MessageOf<typeof rejections>;
export type DurableMessage = MessageOf<typeof durable>;
export type ErrorMessage = MessageOf<typeof error>;
export type GetPagesMessage = MessageOf<typeof getPages>;
export type PagesMessage = MessageOf<typeof pages>;
export type ForgetMessage = MessageOf<typeof forget>;
export type SetPresenceMessage = MessageOf<typeof setPresence>;
export type PresenceMessage = MessageOf<typeof presence>;

export type ClientMessage = MessageOf<Extract<Schemas, { from: 'client' }>>;
export type ServerMessage = MessageOf<Extract<Schemas, { from: 'server' }>>;
export type Message = ClientMessage | ServerMessage;

export type PageImage = Infer<typeof pageImage>;
export type PageChange = Infer<typeof pageChange>;
export type Mutation = Infer<typeof mutation>;
export type Rejection = Infer<typeof rejection>;
export type WirePresenceState = Infer<typeof presenceState>;
export type WirePresencePeer = Infer<typeof presencePeer>;
