import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MESSAGE_SCHEMAS, PROTOCOL_VERSION } from './messages.js';
import type { FieldMap, FieldType } from './schema.js';

/**
 * The wire format as the hash sees it: every message's tag, version, name,
 * direction and fields in order. Written out explicitly rather than
 * JSON.stringify(MESSAGE_SCHEMAS) so implementation-only properties never count.
 */
function canonical(): string {
  const type = (t: FieldType): unknown =>
    t.kind === 'array' ? { array: fields(t.element.fields) } : t.kind === 'struct' ? { struct: fields(t.fields) } : t.kind;
  const fields = (map: FieldMap) => Object.entries(map).map(([name, t]) => [name, type(t)]);
  const messages = Object.values(MESSAGE_SCHEMAS)
    .map(({ tag, version, name, from, fields: f }) => ({ tag, version, name, from, fields: fields(f) }))
    .sort((a, b) => a.tag - b.tag);
  return JSON.stringify(messages);
}

/** sha256 of canonical() for each released PROTOCOL_VERSION. Add entries; never edit one. */
const SCHEMA_HASHES: Record<number, string> = {
  1: '5fa3164a3daf784e3796b56e300463b54e876f3923be9baa400bb829fa4dc7a1',
  2: 'c0c6038f066af8433ffba92cdcd9e5d37e524bf8ff0ffdbfb8fa33c32d37f27a',
  3: '4b1a0ddefa7e82f92689820858ed5eb738b24cdef19d21bfdb0431d3a744aa9e',
  4: 'c49943c2ca62f6a35537c3c5af2f66f5e8ccffe7c4cefbf1174aa4e391ef698c',
  5: 'aeda0c9db2447cc4aa98f0397c75d4ee20d79370364464d6bfe872e8b98396d7',
  6: '57a6e18a8780d13d8d6633626138d4de9e69f1bd3c96758d3fd41659c063cd95',
  7: 'c0bdf84c65bc1a56267dd2280975f895865b453ed49d767983bb27e7c026cb32',
  8: '1b56632d022e212a3c9831869d408599c148872e86cdf3b24ce2c23bfea67464',
  9: '4b039d5c4fee4f4e78be747f39170b3da248e53ed0e146539d33ad3d2b1656b8',
  10: 'bfb318b748044770a292541d31bc156ce72be54bf6f6d3105f1341451d9e04c9',
  11: 'cab913dd8409230eec5e152b684ee7bd868a6c0abd803309d6993b59a5fda47f',
};

describe('message schemas', () => {
  it('match the hash recorded for this PROTOCOL_VERSION', () => {
    const hash = createHash('sha256').update(canonical()).digest('hex');
    expect(
      hash,
      `The message schemas changed. Bump PROTOCOL_VERSION (and the changed message's version) in messages.ts, ` +
        `add a line to its history comment, update docs/PROTOCOL.md, then add the new hash to SCHEMA_HASHES ` +
        `in this test under the new version: ${hash}`,
    ).toBe(SCHEMA_HASHES[PROTOCOL_VERSION]);
  });

  it('use each tag once, client tags below 16 and server tags from 16', () => {
    const schemas = Object.values(MESSAGE_SCHEMAS);
    expect(new Set(schemas.map((s) => s.tag)).size).toBe(schemas.length);
    for (const s of schemas) expect(s.from === 'client' ? s.tag < 16 : s.tag >= 16).toBe(true);
  });

  it('are keyed by their own name', () => {
    for (const [key, schema] of Object.entries(MESSAGE_SCHEMAS)) expect(schema.name).toBe(key);
  });
});
