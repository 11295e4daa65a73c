import { isDeepStrictEqual } from 'node:util';

/**
 * Polls `read` until `accept` holds, failing after `timeoutMs` with `what`
 * and the last value read. Works inside and outside vitest (the measure
 * script shares the page helpers).
 */
export async function waitUntil<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** {@link waitUntil} the value deep-equals `expected`. */
export function waitForValue<T>(read: () => Promise<T>, expected: T, what: string, timeoutMs: number): Promise<T> {
  return waitUntil(read, (value) => isDeepStrictEqual(value, expected), `${what} to be ${JSON.stringify(expected)}`, timeoutMs);
}
