import superjson from 'superjson';
import { QuireError } from '../errors.js';

/** Encodes reducer arguments for the wire; `Date`, `Map`, `Set`, `BigInt` and `undefined` survive. */
export function encodeArgs(args: unknown): string {
  return superjson.stringify(args);
}

/** Decodes arguments from the wire. Throws `QuireError('invalid_args')` on anything malformed. */
export function decodeArgs(json: string, reducer: string): unknown {
  try {
    return superjson.parse(json);
  } catch (cause) {
    throw new QuireError('invalid_args', `arguments of reducer "${reducer}" are not valid superjson — send them through client.mutate`, { cause });
  }
}
