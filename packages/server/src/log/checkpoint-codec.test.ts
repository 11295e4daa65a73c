import { describe, expect, test } from 'vitest';
import { checkpoint, checkpointPages } from './commit-log.contract.js';
import { type ByteSource, CHECKPOINT, encodeCheckpoint, frameOf, readCheckpointFooter, readCheckpointFrame } from './checkpoint-codec.js';

async function encode(lsn: number, pageCount: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of encodeCheckpoint(checkpoint(lsn, pageCount), checkpointPages(lsn, pageCount))) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A source that counts what it was asked for, like range GETs. */
function source(bytes: Uint8Array): ByteSource & { reads: Array<[number, number]> } {
  const reads: Array<[number, number]> = [];
  return { size: bytes.length, reads, read: async (offset, length) => (reads.push([offset, length]), bytes.subarray(offset, offset + length)) };
}

describe('checkpoint codec', () => {
  test('one page is read with the footer and one frame, not the whole checkpoint', async () => {
    const bytes = await encode(9, 200);
    const s = source(bytes);
    const footer = await readCheckpointFooter(s, 'test');
    expect(footer.checkpoint).toEqual(checkpoint(9, 200));
    expect(footer.frames.map((f) => [f.firstPgno, f.pages])).toEqual([[1, 64], [65, 64], [129, 64], [193, 8]]);
    s.reads.length = 0;
    const frame = frameOf(footer, 150)!;
    const pages = await readCheckpointFrame(s, frame, 'test');
    expect(pages.find((p) => p.pgno === 150)).toEqual(checkpointPages(9, 200)[149]);
    expect(s.reads).toEqual([[frame.offset, frame.bytes]]);
    // Compressed: these test pages are mostly zeros.
    expect(bytes.length).toBeLessThan(200 * 4096 / 4);
  });

  test('an empty document (no pages) round-trips', async () => {
    const footer = await readCheckpointFooter(source(await encode(0, 0)), 'test');
    expect(footer.frames).toEqual([]);
    expect(footer.checkpoint.pageCount).toBe(0);
  });

  test('pages out of order or short of the page count are refused before anything is returned', async () => {
    const pages = checkpointPages(1, 3);
    const run = async (list: typeof pages, pageCount: number) => {
      for await (const _ of encodeCheckpoint(checkpoint(1, pageCount), list));
    };
    await expect(run([pages[0]!, pages[2]!], 3)).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('expected page 2') });
    await expect(run(pages, 4)).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('has 3 pages, not its page count 4') });
  });

  test('a cut-off checkpoint (no trailer) is corrupt_log', async () => {
    const bytes = await encode(3, 10);
    await expect(readCheckpointFooter(source(bytes.subarray(0, bytes.length - 5)), 'x.qcp')).rejects.toMatchObject({ code: 'corrupt_log' });
    expect(CHECKPOINT.trailerBytes).toBe(12);
  });
});
