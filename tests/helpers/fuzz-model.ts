import { ProtocolError } from '@quire/core';
import { appVersionOf } from '@quire/core/internal';
import { fuzzReducers } from './fuzz-reducers.js';
import { ArgKeys, MAX_PRESENCE_KEY, PROTOCOL_VERSION, ReducerNames, decodeClientMessage, isJsonText, isValidClientId, type ClientMessage, type Mutation } from '@quire/core/protocol';

/** Frames over this many times the server's maxMessageBytes are cut by the WebSocket layer (close 1009). */
export const TRANSPORT_LIMIT_FACTOR = 4;
/** Most pages one getPages answer carries (the coordinator's MAX_PAGES_PER_REQUEST). */
export const MAX_PAGES_PER_ANSWER = 1024;

/** One frame as a client puts it on the wire. */
export interface WireFrame {
  bytes: Uint8Array;
  /** Sent as a WebSocket text message instead of a binary one. */
  text?: boolean;
  /** What made it, for failure messages. */
  label: string;
}

/** What the server must do with one frame, as this model of the session predicts it. */
export type Outcome =
  | { kind: 'fatal'; code: string }
  | { kind: 'transport'; closeCode: number }
  | { kind: 'hello'; clientId: string }
  | { kind: 'push'; queued: Mutation[]; gap: number | undefined }
  | { kind: 'pages'; id: number; pgnos: number[] }
  /** States over the size limit are refused, each with a non-fatal presence_too_large (the fuzzed server has no rate limit). */
  | { kind: 'presence'; tooLarge: number }
  | { kind: 'none' };

/** The fuzzed server's limits.maxPresenceBytes (the default). */
export const FUZZ_MAX_PRESENCE_BYTES = 2048;

/**
 * The server's accepted mutations per client: the coordinator's seq rule
 * (a resend is skipped, the first gap ends the push with `seq_gap`), applied
 * to the pushes in the order the server handles them.
 */
export class SeqModel {
  // Names only, cut to 64 characters: arguments and huge names would add up over a run.
  private readonly clients = new Map<string, { high: number; accepted: Map<number, string> }>();

  push(clientId: string, mutations: readonly Mutation[]): { queued: Mutation[]; gap: number | undefined } {
    const state = this.state(clientId);
    const queued: Mutation[] = [];
    for (const m of mutations) {
      if (m.seq >= 1 && m.seq <= state.high) continue;
      if (m.seq !== state.high + 1) return { queued, gap: m.seq };
      state.high = m.seq;
      state.accepted.set(m.seq, m.name.slice(0, 64));
      queued.push(m);
    }
    return { queued, gap: undefined };
  }

  /**
   * A hello says the client's seqs below `fromSeq` are settled; past what the
   * server has, it skips to there (`ClientSeqs.settledBelow`): later pushes
   * below `fromSeq` are resends.
   */
  hello(clientId: string, fromSeq: number): void {
    const state = this.state(clientId);
    if (fromSeq > state.high + 1) state.high = fromSeq - 1;
  }

  /** The next seq the server expects from `clientId`. */
  next(clientId: string): number {
    return this.state(clientId).high + 1;
  }

  /** Every client with at least one accepted mutation, and their reducer names by seq. */
  accepted(): Map<string, Map<number, string>> {
    const out = new Map<string, Map<number, string>>();
    for (const [clientId, state] of this.clients) if (state.accepted.size > 0) out.set(clientId, state.accepted);
    return out;
  }

  private state(clientId: string) {
    let state = this.clients.get(clientId);
    if (!state) this.clients.set(clientId, (state = { high: 0, accepted: new Map() }));
    return state;
  }
}

/**
 * A model of one connection's session (packages/server/src/session.ts): it
 * predicts, frame by frame, what the server does, from the bytes alone.
 */
export class SessionModel {
  clientId: string | undefined;
  /** Set once a frame closed the connection: later frames are never read. */
  closedBy: Outcome | undefined;
  // The reducer names this connection's pushes used, as the server resolves them.
  private readonly names = new ReducerNames();
  // And the keys of the last object its pushes sent whole.
  private readonly keys = new ArgKeys();

  constructor(
    private readonly seqs: SeqModel,
    private readonly maxMessageBytes: number,
  ) {}

  get helloDone(): boolean {
    return this.clientId !== undefined;
  }

  /** The outcome of the next frame; updates the model as the server would. */
  receive(frame: WireFrame): Outcome {
    if (this.closedBy) return { kind: 'none' };
    const outcome = this.predict(frame);
    if (outcome.kind === 'fatal' || outcome.kind === 'transport') this.closedBy = outcome;
    return outcome;
  }

  /**
   * The close code if the WebSocket layer itself refuses this frame. It does
   * so as the frame arrives, before the session has handled the frames
   * ahead of it, which it then drops.
   */
  transportClose(frame: WireFrame): number | undefined {
    if (frame.bytes.length > this.maxMessageBytes * TRANSPORT_LIMIT_FACTOR) return 1009;
    if (frame.text && !isUtf8(frame.bytes)) return 1007;
    return undefined;
  }

  private predict(frame: WireFrame): Outcome {
    const { bytes } = frame;
    const closeCode = this.transportClose(frame);
    if (closeCode !== undefined) return { kind: 'transport', closeCode };
    if (frame.text) return { kind: 'fatal', code: 'malformed_frame' };
    let message: ClientMessage;
    try {
      message = decodeClientMessage(bytes, { maxBytes: this.maxMessageBytes, keys: this.keys });
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw new Error(`the decoder threw a non-ProtocolError for ${frame.label}: ${String(error)}`, { cause: error });
      return { kind: 'fatal', code: error.code };
    }
    if (message.type === 'hello') {
      if (this.clientId !== undefined) return { kind: 'fatal', code: 'unexpected_message' };
      if (message.protocolVersion !== PROTOCOL_VERSION) return { kind: 'fatal', code: 'unsupported_version' };
      if (!isValidClientId(message.clientId)) return { kind: 'fatal', code: 'invalid_client_id' };
      // The fuzzed server's reducers come from defineReducers: app version 0.
      if (message.appVersion > appVersionOf(fuzzReducers)) return { kind: 'fatal', code: 'server_outdated' };
      this.clientId = message.clientId;
      this.seqs.hello(message.clientId, message.fromSeq);
      return { kind: 'hello', clientId: message.clientId };
    }
    if (this.clientId === undefined) return { kind: 'fatal', code: 'unexpected_message' };
    if (message.type === 'forget') return { kind: 'none' };
    if (message.type === 'setPresence') {
      // In order: a state too large is refused alone; a bad key or text that is not JSON ends the session there.
      let tooLarge = 0;
      for (const { key, state } of message.states) {
        if (key > MAX_PRESENCE_KEY) return { kind: 'fatal', code: 'malformed_frame' };
        if (Buffer.byteLength(state) > FUZZ_MAX_PRESENCE_BYTES) tooLarge++;
        else if (state !== '' && !isJsonText(state)) return { kind: 'fatal', code: 'malformed_frame' };
      }
      return { kind: 'presence', tooLarge };
    }
    if (message.type === 'getPages') {
      const pgnos = message.pgnos.slice(0, MAX_PAGES_PER_ANSWER).map((p) => p.pgno).filter((pgno) => pgno >= 1);
      return { kind: 'pages', id: message.id, pgnos };
    }
    // "" repeats the previous reducer name on the connection: with none before it, the frame is refused whole.
    let mutations: Mutation[];
    try {
      mutations = message.mutations.map((m) => ({ ...m, name: this.names.unpack(m.name, m.seq) }));
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return { kind: 'fatal', code: error.code };
    }
    return { kind: 'push', ...this.seqs.push(this.clientId, mutations) };
  }
}

/** The pages an answer must carry for a request: in page order, within the page count. */
export function expectedPages(requested: readonly number[], pageCount: number): number[] {
  return requested.filter((pgno) => pgno <= pageCount).sort((a, b) => a - b);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });


function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
