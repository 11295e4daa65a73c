import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { main } from './main.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  return { out: () => out.join(''), err: () => err.join('') };
}

describe('quire CLI arguments', () => {
  afterEach(() => vi.restoreAllMocks());

  test('--help prints usage and exits 0', async () => {
    const io = capture();
    expect(await main(['--help'])).toBe(0);
    expect(io.out()).toContain('Usage: quire serve --reducers <file>');
  });

  test('a missing command, a missing --reducers, a bad port and unknown flags exit 2 with the reason', async () => {
    const io = capture();
    expect(await main([])).toBe(2);
    expect(io.err()).toContain('expected the command "serve"');
    expect(await main(['serve'])).toBe(2);
    expect(io.err()).toContain('--reducers is required');
    expect(await main(['serve', '--reducers', 'x.ts', '--port', 'eighty'])).toBe(2);
    expect(io.err()).toContain('--port must be an integer from 0 to 65535, got "eighty"');
    expect(await main(['serve', '--bogus'])).toBe(2);
    expect(io.err()).toContain("Unknown option '--bogus'");
  });

  test('a reducers file that does not exist fails with a typed error before listening', async () => {
    capture();
    await expect(main(['serve', '--reducers', '/nonexistent/reducers.ts', '--port', '0'])).rejects.toMatchObject({ code: 'reducers_not_found' });
  });

  test('a .cts or .tsx reducers file fails with a typed error that says to rename it', async () => {
    capture();
    const dir = mkdtempSync(join(tmpdir(), 'quire-cli-'));
    try {
      for (const name of ['reducers.cts', 'reducers.tsx']) {
        writeFileSync(join(dir, name), 'export default {};');
        await expect(main(['serve', '--reducers', join(dir, name), '--port', '0'])).rejects.toMatchObject({
          code: 'reducers_file_type',
          message: expect.stringContaining('rename the file to .ts'),
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
