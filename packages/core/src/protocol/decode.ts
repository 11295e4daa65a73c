import { within } from './fault.js';
import type { Reader } from './reader.js';
import { type ArgKeys, unpackArgs } from './reducer-args.js';
import type { FieldType, StructType } from './schema.js';

type Fields = Record<string, unknown>;

/** Reads a struct's fields into `out`; failures carry the field path. `keys`: the connection's, for arguments (reducer-args.ts). */
export function readStruct(reader: Reader, type: StructType, out: Fields, keys?: ArgKeys): Fields {
  const { names, types } = type;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    try {
      out[name] = readField(reader, types[i]!, keys);
    } catch (error) {
      throw within(error, name);
    }
  }
  return out;
}

function readField(reader: Reader, type: FieldType, keys: ArgKeys | undefined): unknown {
  switch (type.kind) {
    case 'varuint':
      return reader.varuint();
    case 'bool':
      return reader.bool();
    case 'string':
      return reader.string();
    case 'args':
      return unpackArgs(reader.bytes(), keys);
    case 'bytes':
      return reader.bytes();
    case 'array': {
      const count = reader.count(type.element.minSize);
      const items: Fields[] = [];
      for (let i = 0; i < count; i++) {
        try {
          items.push(readStruct(reader, type.element, {}, keys));
        } catch (error) {
          throw within(error, i);
        }
      }
      return items;
    }
    case 'struct':
      return readStruct(reader, type, {}, keys);
  }
}
