const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * A random id of 22 URL-safe characters (132 bits), valid as a Quire docId.
 * Uses getRandomValues, not randomUUID: the latter only exists in secure
 * contexts, and the demo is often opened over plain http on a LAN address.
 */
export function randomId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(22));
  return Array.from(bytes, (b) => ALPHABET[b & 63]).join('');
}
