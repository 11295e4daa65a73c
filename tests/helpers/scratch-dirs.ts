import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/**
 * Temporary folders the tests of a file make, removed after each test.
 * Call it before registering hooks that must run first (vitest runs
 * after-hooks last registered first: stop the servers, then remove).
 */
export function scratchDirs(): { make(name: string): string } {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return {
    make(name) {
      const dir = mkdtempSync(join(tmpdir(), `quire-${name}-`));
      dirs.push(dir);
      return dir;
    },
  };
}
