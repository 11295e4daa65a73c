import { describe, expect, it } from 'vitest';
import { presentHeader } from './page.js';

describe('presentHeader', () => {
  it('rewrites a copy and leaves the input alone, even when the input is a Buffer', () => {
    const base = Buffer.alloc(4096, 0);
    base[18] = 2;
    base[19] = 2;
    const before = Buffer.from(base);
    const shown = presentHeader(base, 7);
    expect(shown[18]).toBe(1);
    expect(new DataView(shown.buffer, shown.byteOffset).getUint32(24)).toBe(7);
    expect(base.equals(before)).toBe(true);
  });
});
