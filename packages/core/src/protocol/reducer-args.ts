/**
 * How a push carries a mutation's arguments. They are superjson text, which
 * for plain JSON is `{"json":<value>}`: the wrapper, 9 bytes, is dropped on
 * the wire and put back on arrival. Three forms, told apart by their start:
 * - `{"json":…` the text as it is;
 * - `\0…` the rest as it is (any other text, so every string round-trips);
 * - anything else: the inside of `{"json":…}`.
 */

const WRAPPER = '{"json":';
const RAW = '\u0000';

/** The wire form of superjson argument text. */
export function packArgs(text: string): string {
  if (!text.startsWith(WRAPPER)) return RAW + text;
  if (!text.endsWith('}')) return text;
  const inner = text.slice(WRAPPER.length, -1);
  // The inner text must not read as one of the other two forms.
  return inner.startsWith(WRAPPER) || inner.startsWith(RAW) ? text : inner;
}

/** The argument text `packArgs` was given, from its wire form. */
export function unpackArgs(wire: string): string {
  if (wire.startsWith(WRAPPER)) return wire;
  if (wire.startsWith(RAW)) return wire.slice(RAW.length);
  return `${WRAPPER}${wire}}`;
}
