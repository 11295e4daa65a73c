import { ProtocolError } from '../errors.js';
import { readStruct } from './decode.js';
import { type Sizing, structSize, writeStruct } from './encode.js';
import { describeFault, Fault } from './fault.js';
import { DEFLATED_TAG, type Deflate, compressFrame, inflateFrame } from './frame-compression.js';
import { MESSAGE_SCHEMAS, type ClientMessage, type Message, type ServerMessage } from './messages.js';
import { Reader } from './reader.js';
import { ArgKeys } from './reducer-args.js';
import type { Direction, MessageSchema } from './schema.js';
import { Writer } from './writer.js';

type Fields = Record<string, unknown>;

const SCHEMAS: readonly MessageSchema[] = Object.values(MESSAGE_SCHEMAS);
const BY_NAME = new Map(SCHEMAS.map((schema) => [schema.name, schema]));
const BY_TAG: (MessageSchema | undefined)[] = [];
for (const schema of SCHEMAS) {
  if (BY_TAG[schema.tag]) throw new Error(`message tag ${schema.tag} is used twice`);
  BY_TAG[schema.tag] = schema;
}

/**
 * Two passes over the message: the first validates it and sizes the frame,
 * the second writes into a single buffer of exactly that size.
 * Throws TypeError if the message does not fit its schema. `keys`: the
 * connection's memory of argument keys (reducer-args.ts), updated once the
 * frame is made; without it, arguments are packed as on a new connection.
 */
export function encodeMessage(message: Message, keys?: ArgKeys): Uint8Array<ArrayBuffer> {
  const type: unknown = (message as { type?: unknown } | null)?.type;
  const schema = typeof type === 'string' ? BY_NAME.get(type) : undefined;
  if (!schema) throw new TypeError(`cannot encode: unknown message type ${JSON.stringify(type)}`);
  // Sizing packs the arguments, against a copy of the keys: a message that fails leaves them as they were.
  const sizing: Sizing = { strings: [], args: [], keys: keys && Object.assign(new ArgKeys(), keys) };
  let size: number;
  try {
    size = 2 + structSize(schema, message, sizing);
  } catch (error) {
    if (error instanceof Fault) throw new TypeError(`cannot encode ${describeFault(schema.name, error)}`);
    throw error;
  }
  const writer = new Writer(size, sizing.strings, sizing.args);
  writer.u8(schema.tag);
  writer.u8(schema.version);
  writeStruct(writer, schema, message as unknown as Fields);
  // A mismatch would mean the sizing and writing passes disagree: a codec bug, never bad input.
  if (writer.pos !== size) throw new Error(`internal: wrote ${writer.pos} bytes into a ${size}-byte frame`);
  if (keys) keys.last = sizing.keys!.last;
  return writer.buf;
}

/** A server message as it goes on the wire: encoded, then deflated when that makes it smaller. */
export function encodeServerFrame(message: ServerMessage, deflate?: Deflate): Uint8Array {
  return compressFrame(encodeMessage(message), deflate);
}

// A client accepts deflated frames up to this size once inflated.
const MAX_INFLATED_BYTES = 256 * 1024 * 1024;

/** `keys`: the connection's memory of argument keys (reducer-args.ts), which decoding a push updates. */
export function decodeClientMessage(bytes: Uint8Array, options?: { maxBytes?: number; keys?: ArgKeys }): ClientMessage {
  return decode(bytes, options, 'client') as ClientMessage;
}

export function decodeServerMessage(bytes: Uint8Array, options?: { maxBytes?: number }): ServerMessage {
  return decode(bytes, options, 'server') as ServerMessage;
}

function decode(bytes: Uint8Array, options: { maxBytes?: number; keys?: ArgKeys } | undefined, from: Direction): Message {
  if (!(bytes instanceof Uint8Array)) throw new ProtocolError('malformed_frame', 'a frame must be a Uint8Array');
  const maxBytes = options?.maxBytes;
  if (maxBytes !== undefined && bytes.length > maxBytes) {
    throw new ProtocolError('message_too_large', `frame of ${bytes.length} bytes exceeds the limit of ${maxBytes}`);
  }
  if (bytes.length === 0) throw new ProtocolError('malformed_frame', 'empty frame');
  if (bytes[0] === DEFLATED_TAG) {
    if (from === 'client') throw new ProtocolError('unexpected_message', 'clients may not send deflated frames');
    const inner = inflateFrame(bytes, MAX_INFLATED_BYTES);
    if (inner[0] === DEFLATED_TAG) throw new ProtocolError('malformed_frame', 'a deflated frame holds another deflated frame');
    return decode(inner, undefined, from);
  }
  const tag = bytes[0]!;
  const schema = BY_TAG[tag];
  if (!schema) throw new ProtocolError('unknown_message', `unknown message tag ${tag}`);
  if (bytes.length < 2) throw new ProtocolError('malformed_frame', `${schema.name}: frame ends before the version byte`);
  const version = bytes[1]!;
  if (version !== schema.version) {
    throw new ProtocolError(
      'unsupported_version',
      `${schema.name} version ${version} is not supported (this build speaks ${schema.name} version ${schema.version})`,
    );
  }
  const reader = new Reader(bytes, 2);
  let message: Fields;
  try {
    message = readStruct(reader, schema, { type: schema.name }, options?.keys);
    if (reader.remaining > 0) throw new Fault(`${reader.remaining} trailing bytes after the last field`);
  } catch (error) {
    // Anything but a Fault is a codec bug; it still surfaces as a ProtocolError so decoding stays total.
    if (error instanceof Fault) throw new ProtocolError('malformed_frame', describeFault(schema.name, error));
    throw new ProtocolError('malformed_frame', `${schema.name}: ${String(error)}`, { cause: error });
  }
  if (schema.from !== from) {
    throw new ProtocolError('unexpected_message', `received ${schema.from} message '${schema.name}' where a ${from} message was expected`);
  }
  return message as unknown as Message;
}
