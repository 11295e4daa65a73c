import { describe, expect, test } from 'vitest';
import { MAX_REJECTION_CODE, MAX_REJECTION_MESSAGE, type RejectionRecord } from './commit-log.js';
import { record } from './commit-log.contract.js';
import { RECORD, RECORD_LIMITS, decodeRecordBody, encodeRecord } from './commit-record-codec.js';

const body = (bytes: Uint8Array) => bytes.subarray(RECORD.headerBytes, bytes.length - RECORD.trailerBytes);
const rejection = (fields: Partial<RejectionRecord>): RejectionRecord => ({ clientId: 'c', seq: 1, code: 'reducer_error', message: 'no', ...fields });

describe('commit record codec', () => {
  test('fields at their limits round-trip', () => {
    const largest = rejection({
      clientId: 'i'.repeat(RECORD_LIMITS.clientIdBytes),
      code: 'c'.repeat(MAX_REJECTION_CODE),
      // Three UTF-8 bytes per UTF-16 code unit: the most a capped message can take.
      message: '€'.repeat(MAX_REJECTION_MESSAGE),
    });
    const r = record(1, { rejections: [largest] });
    const { pgnos: _pgnos, ...decoded } = decodeRecordBody(body(encodeRecord(r)), { pages: true });
    expect(decoded).toEqual(r);
  });

  test.each([
    ['a 70 KiB rejection code', { code: 'x'.repeat(70 * 1024) }, `rejection code of client "c" seq 1 is 71680 bytes`],
    ['a rejection code one byte over', { code: 'x'.repeat(MAX_REJECTION_CODE + 1) }, `rejection code of client "c" seq 1 is ${MAX_REJECTION_CODE + 1} bytes`],
    ['a message over the cap', { message: '€'.repeat(MAX_REJECTION_MESSAGE + 1) }, `rejection message of client "c" seq 1 is ${3 * (MAX_REJECTION_MESSAGE + 1)} bytes`],
    ['a client id that does not fit its u16', { clientId: 'i'.repeat(RECORD_LIMITS.clientIdBytes + 1) }, `client id of a rejection is ${RECORD_LIMITS.clientIdBytes + 1} bytes`],
  ])('the encoder refuses %s instead of wrapping its length', (_name, fields, detail) => {
    expect(() => encodeRecord(record(7, { rejections: [rejection(fields)] }))).toThrow(
      expect.objectContaining({ code: 'log_field_too_large', message: expect.stringContaining(`commit 7: the ${detail}`) }),
    );
  });

  test('the encoder refuses a settled client id that does not fit its u16', () => {
    const settled = [{ clientId: 'i'.repeat(RECORD_LIMITS.clientIdBytes + 1), lastSeq: 1 }];
    expect(() => encodeRecord(record(2, { settled }))).toThrow(expect.objectContaining({ code: 'log_field_too_large' }));
  });
});
