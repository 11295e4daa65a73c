import superjson from 'superjson';
import { QuireError } from '../errors.js';

/** Encodes reducer arguments for the wire; `Date`, `Map`, `Set`, `BigInt` and `undefined` survive. */
export function encodeArgs(args: unknown): string {
  // Most arguments are plain JSON, for which superjson writes exactly
  // {"json":<the value>}; its walker costs ~40 us a call on the path from a
  // user's edit to the server.
  if (isPlainJson(args, new Set())) return `{"json":${JSON.stringify(args)}}`;
  return superjson.stringify(args);
}

const REFUSED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** True when JSON.stringify round-trips the value exactly and superjson would add no annotation. */
function isPlainJson(value: unknown, seen: Set<object>): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      // A repeated object is a reference superjson records.
      if (seen.has(value)) return false;
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!(i in value) || !isPlainJson(value[i], seen)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      if (Object.getOwnPropertySymbols(value).length > 0) return false;
      for (const key of Object.keys(value)) {
        // superjson refuses these keys (prototype pollution): let it say so.
        if (REFUSED_KEYS.has(key) || !isPlainJson((value as Record<string, unknown>)[key], seen)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** Decodes arguments from the wire. Throws `QuireError('invalid_args')` on anything malformed. */
export function decodeArgs(json: string, reducer: string): unknown {
  try {
    return superjson.parse(json);
  } catch (cause) {
    throw new QuireError('invalid_args', `arguments of reducer "${reducer}" are not valid superjson — send them through client.mutate`, { cause });
  }
}
