import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { memoryLogger } from '../../test/memory-logger.js';
import packageJson from '../../package.json' with { type: 'json' };
import { main } from './main.js';
import { captureOutput } from '../../test/capture-output.js';

const capture = captureOutput;

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
    expect(io.err()).toContain('quire: unknown option --bogus\nRun "quire --help" for the commands and their options.\n');
    // One line that says what is wrong, not the whole help under it.
    expect(io.err()).not.toContain('Usage:');
    expect(await main(['serve', 'app.ts'])).toBe(2);
    expect(io.err()).toContain('quire: quire serve takes no file argument, got "app.ts" — name the app with --reducers app.ts');
  });

  test('--s3-endpoint or --s3-prefix without --s3-bucket exits 2; --help says where credentials come from', async () => {
    const io = capture();
    expect(await main(['serve', '--reducers', 'x.ts', '--s3-endpoint', 'http://127.0.0.1:7480'])).toBe(2);
    expect(io.err()).toContain('quire: --s3-endpoint and --s3-prefix need --s3-bucket');
    expect(await main(['serve', '--reducers', 'x.ts', '--s3-prefix', 'p/'])).toBe(2);
    expect(await main(['--help'])).toBe(0);
    expect(io.out()).toContain('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  });

  test('--workers takes a whole number from 1, and not with a bucket', async () => {
    const io = capture();
    for (const bad of ['0', 'two', '1.5', '-1']) {
      expect(await main(['serve', '--reducers', 'x.ts', `--workers=${bad}`])).toBe(2);
      expect(io.err()).toContain(`quire: --workers must be a whole number from 1 to 1024, got "${bad}"`);
    }
    expect(await main(['serve', '--reducers', 'x.ts', '--s3-bucket', 'b', '--workers', '2'])).toBe(2);
    expect(io.err()).toContain('--workers works with file logs only for now');
    // As a separate argument, "-1" reads like an option to parseArgs: one line that says how to pass it anyway.
    const before = io.err().length;
    expect(await main(['serve', '--reducers', 'x.ts', '--workers', '-1'])).toBe(2);
    expect(io.err().slice(before)).toBe('quire: --workers takes a value, and "-1" looks like an option — write --workers=-1 to pass it\nRun "quire --help" for the commands and their options.\n');
    expect(await main(['serve', '--reducers', 'x.ts', '-p', '-1'])).toBe(2);
    expect(io.err()).toContain('quire: --port takes a value, and "-1" looks like an option — write --port=-1 to pass it\n');
    expect(await main(['--help'])).toBe(0);
    expect(io.out()).toContain('--workers <n>');
  });

  test('cluster flags without --cluster, --cluster without a bucket, and a bad lease TTL exit 2', async () => {
    const io = capture();
    expect(await main(['serve', '--reducers', 'x.ts', '--node-id', 'a'])).toBe(2);
    expect(io.err()).toContain('quire: --advertise-url, --node-id and --lease-ttl-ms need --cluster');
    expect(await main(['serve', '--reducers', 'x.ts', '--cluster'])).toBe(2);
    expect(io.err()).toContain('quire: --cluster needs --s3-bucket');
    expect(await main(['serve', '--reducers', 'x.ts', '--s3-bucket', 'b', '--cluster', '--lease-ttl-ms', '5s'])).toBe(2);
    expect(io.err()).toContain('--lease-ttl-ms must be an integer of at least 100, got "5s"');
  });

  test('--ping-interval-ms takes whole milliseconds from 100 to an hour; a bad one exits 2 before anything loads', async () => {
    const io = capture();
    // x.ts does not exist: had the command gone on to load it, it would throw reducers_not_found instead.
    for (const bad of ['0', '99', '3600001', '2s', '1.5', '1e3', '']) {
      expect(await main(['serve', '--reducers', 'x.ts', `--ping-interval-ms=${bad}`])).toBe(2);
      expect(io.err()).toContain(`quire: --ping-interval-ms must be a whole number of milliseconds from 100 to 3600000, got "${bad}"\n`);
    }
    expect(await main(['--help'])).toBe(0);
    expect(io.out()).toContain('--ping-interval-ms <n>');
  });

  test('backup and restore with --s3-* flags exit 2: they copy file logs, and the message says how a bucket is backed up', async () => {
    const io = capture();
    for (const args of [['backup', '--s3-bucket', 'b', './data', './dest'], ['restore', './backup', './data', '--s3-prefix', 'p/']]) {
      io.clear();
      expect(await main(args)).toBe(2);
      expect(io.err()).toBe(
        `quire: quire ${args[0]} works on data directories with file logs, not on a bucket — back up the bucket with the store's own versioning or replication, or copy its docs/ folder with the store's tools (see docs/OPERATIONS.md)\nRun "quire --help" for the commands and their options.\n`,
      );
    }
  });

  test('an unknown option that looks like a known one gets a "did you mean"', async () => {
    const io = capture();
    expect(await main(['serve', '--reducers', 'x.ts', '--prot', '9000'])).toBe(2);
    expect(io.err()).toContain('quire: unknown option --prot — did you mean --port?');
    expect(await main(['serve', '--data-dir', './d'])).toBe(2);
    expect(io.err()).toContain('quire: unknown option --data-dir — did you mean --data?');
  });

  test('--version prints the package version', async () => {
    const io = capture();
    expect(await main(['--version'])).toBe(0);
    expect(await main(['-v'])).toBe(0);
    expect(io.out()).toBe(`quire ${packageJson.version}\nquire ${packageJson.version}\n`);
  });

  test('a port that is taken exits 1 saying so and what to do', async () => {
    const io = capture();
    const dir = mkdtempSync(join(tmpdir(), 'quire-cli-'));
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      writeFileSync(join(dir, 'reducers.mjs'), 'export default { definitions: {} };\n');
      const { logger, lines } = memoryLogger();
      expect(await main(['serve', '-r', join(dir, 'reducers.mjs'), '-d', join(dir, 'data'), '--port', String(port)], { logger })).toBe(1);
      expect(io.err()).toBe(
        `quire: port ${port} on 127.0.0.1 is already in use — stop the process that holds it, or pick another port with --port <n> (--port 0 picks a free one)\n`,
      );
      // A server that never listened has no drain to tell of.
      expect(lines.filter((line) => /drain/.test(line.msg))).toEqual([]);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
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
