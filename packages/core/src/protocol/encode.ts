import { Fault, within } from './fault.js';
import { type ArgKeys, packArgs, packArgsWith } from './reducer-args.js';
import type { FieldType, StructType } from './schema.js';
import { utf8Length, varuintSize, type Writer } from './writer.js';

type Fields = Record<string, unknown>;

/**
 * What sizing a frame learns for writing it, in write order: string byte
 * lengths and packed arguments; `keys`, when arguments are packed for a
 * connection (reducer-args.ts), is its memory as of the field being sized.
 */
export interface Sizing {
  readonly strings: number[];
  readonly args: Uint8Array[];
  readonly keys: ArgKeys | undefined;
}

/** Validates a value against its schema and returns its encoded size, filling `sizing`. */
export function structSize(type: StructType, value: unknown, sizing: Sizing): number {
  if (typeof value !== 'object' || value === null) throw new Fault(`expected an object, got ${show(value)}`);
  const { names, types } = type;
  let size = 0;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    try {
      size += fieldSize(types[i]!, (value as Fields)[name], sizing);
    } catch (error) {
      throw within(error, name);
    }
  }
  return size;
}

function fieldSize(type: FieldType, value: unknown, sizing: Sizing): number {
  switch (type.kind) {
    case 'varuint':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw new Fault(`${show(value)} is not a varuint (a non-negative safe integer)`);
      }
      return varuintSize(value);
    case 'bool':
      if (typeof value !== 'boolean') throw new Fault(`expected a boolean, got ${show(value)}`);
      return 1;
    case 'string': {
      if (typeof value !== 'string') throw new Fault(`expected a string, got ${show(value)}`);
      const n = utf8Length(value);
      sizing.strings.push(n);
      return varuintSize(n) + n;
    }
    case 'args': {
      if (typeof value !== 'string') throw new Fault(`expected a string, got ${show(value)}`);
      const packed = sizing.keys ? packArgsWith(value, sizing.keys) : packArgs(value);
      sizing.args.push(packed);
      return varuintSize(packed.length) + packed.length;
    }
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw new Fault(`expected a Uint8Array, got ${show(value)}`);
      return varuintSize(value.length) + value.length;
    case 'array': {
      if (!Array.isArray(value)) throw new Fault(`expected an array, got ${show(value)}`);
      let size = varuintSize(value.length);
      for (let i = 0; i < value.length; i++) {
        try {
          size += structSize(type.element, value[i], sizing);
        } catch (error) {
          throw within(error, i);
        }
      }
      return size;
    }
    case 'struct':
      return structSize(type, value, sizing);
  }
}

// No checks here: structSize has already validated every value.
export function writeStruct(writer: Writer, type: StructType, value: Fields): void {
  const { names, types } = type;
  for (let i = 0; i < names.length; i++) writeField(writer, types[i]!, value[names[i]!]);
}

function writeField(writer: Writer, type: FieldType, value: unknown): void {
  switch (type.kind) {
    case 'varuint':
      return writer.varuint(value as number);
    case 'bool':
      return writer.bool(value as boolean);
    case 'string':
      return writer.string(value as string);
    case 'args':
      return writer.bytes(writer.nextArgs());
    case 'bytes':
      return writer.bytes(value as Uint8Array);
    case 'array': {
      const items = value as Fields[];
      writer.varuint(items.length);
      for (let i = 0; i < items.length; i++) writeStruct(writer, type.element, items[i]!);
      return;
    }
    case 'struct':
      return writeStruct(writer, type, value as Fields);
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
