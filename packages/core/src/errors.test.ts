import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { QUIRE_ERROR_CODES } from './errors.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

// Every way the code base names an error code it raises or sends.
const RAISED = [
  /new (?:QuireError|ProtocolError|MutationRejectedError)\(\s*'([a-z0-9_]+)'/g,
  /(?:sendError|refuse|scheduleReconnect)\(\s*\{?\s*(?:code:\s*)?'([a-z0-9_]+)'/g,
  /\bcode:\s*'([a-z0-9_]+)'/g,
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : sources(path);
    const shipped = /\.tsx?$/.test(entry.name) && !/\.(test|test-d|contract)\.tsx?$/.test(entry.name);
    return shipped ? [path] : [];
  });
}

function raisedCodes(): Map<string, string> {
  const found = new Map<string, string>();
  for (const pkg of readdirSync(join(repo, 'packages'))) {
    for (const file of sources(join(repo, 'packages', pkg, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const pattern of RAISED) for (const match of text.matchAll(pattern)) found.set(match[1]!, relative(repo, file));
    }
  }
  return found;
}

describe('error codes', () => {
  const known = new Set<string>(QUIRE_ERROR_CODES);

  it('lists every code the packages raise', () => {
    const raised = raisedCodes();
    expect(raised.size).toBeGreaterThan(30); // the scan itself works
    const unlisted = [...raised].filter(([code]) => !known.has(code)).map(([code, file]) => `${code} (${file})`);
    expect(unlisted, 'add these to QUIRE_ERROR_CODES in errors.ts and to docs/ERRORS.md').toEqual([]);
  });

  it('documents each listed code once in docs/ERRORS.md, and nothing else', () => {
    const doc = readFileSync(join(repo, 'docs/ERRORS.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `([a-z0-9_]+)` \|/gm)].map((m) => m[1]!);
    expect(new Set(documented).size, 'a code documented twice').toBe(documented.length);
    expect([...documented].sort()).toEqual([...known].sort());
  });
});
