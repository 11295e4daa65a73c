import type { Row, SqlValue } from '../reducers/tx.js';
import type { Sqlite3 } from '../vfs/sqlite-module.js';

// SQLite's fundamental datatypes (sqlite3.h).
const SQLITE_INTEGER = 1;
const SQLITE_FLOAT = 2;
const SQLITE_TEXT = 3;
const SQLITE_BLOB = 4;

/** The C functions a row read calls, straight from the WASM exports. */
interface ColumnExports {
  sqlite3_column_count(pStmt: number): number;
  sqlite3_column_name(pStmt: number, i: number): number;
  sqlite3_column_type(pStmt: number, i: number): number;
  sqlite3_column_double(pStmt: number, i: number): number;
  sqlite3_column_int64(pStmt: number, i: number): bigint;
  sqlite3_column_text(pStmt: number, i: number): number;
  sqlite3_column_blob(pStmt: number, i: number): number;
  sqlite3_column_bytes(pStmt: number, i: number): number;
}

/**
 * Reads result rows as `Stmt.get({})` of sqlite-wasm's oo1 API does (the same
 * values and types: integers as numbers, BigInt beyond 2^53, text, blobs as
 * copies), at a fraction of its cost: it calls the C functions directly
 * instead of through their argument-converting wrappers, and decodes the
 * column names once per run rather than once per value. Live queries read
 * every row of their result after each change, so this is on the path of
 * every repaint.
 */
export class RowReader {
  private readonly c: ColumnExports;
  private readonly decoder = new TextDecoder();
  private readonly bigInts: boolean;
  private readonly sharedHeap: boolean;

  constructor(private readonly sqlite3: Sqlite3) {
    this.c = sqlite3.wasm.exports as ColumnExports;
    this.bigInts = (sqlite3.wasm as { bigIntEnabled?: boolean }).bigIntEnabled === true;
    this.sharedHeap = typeof SharedArrayBuffer !== 'undefined' && sqlite3.wasm.heap8u().buffer instanceof SharedArrayBuffer;
  }

  /** The column names of the statement's current result (read after a step: a recompile may change them). */
  names(pStmt: number): string[] {
    const names: string[] = [];
    const count = this.c.sqlite3_column_count(pStmt);
    for (let i = 0; i < count; i++) names.push(this.text(this.c.sqlite3_column_name(pStmt, i), -1));
    return names;
  }

  /** The row the statement is on, with `names` from {@link names}. */
  row<R extends Row>(pStmt: number, names: readonly string[]): R {
    const row: Row = {};
    for (let i = 0; i < names.length; i++) row[names[i]!] = this.value(pStmt, i);
    return row as R;
  }

  private value(pStmt: number, i: number): SqlValue {
    const c = this.c;
    switch (c.sqlite3_column_type(pStmt, i)) {
      case SQLITE_INTEGER: {
        // A double holds every integer up to 2^53 exactly; larger ones come as BigInt.
        const approx = c.sqlite3_column_double(pStmt, i);
        if (Number.isSafeInteger(approx) || !this.bigInts) return approx;
        const exact = c.sqlite3_column_int64(pStmt, i);
        return exact >= BigInt(Number.MIN_SAFE_INTEGER) && exact <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(exact) : exact;
      }
      case SQLITE_FLOAT:
        return c.sqlite3_column_double(pStmt, i);
      case SQLITE_TEXT: {
        const ptr = c.sqlite3_column_text(pStmt, i);
        return this.text(ptr, c.sqlite3_column_bytes(pStmt, i));
      }
      case SQLITE_BLOB: {
        const ptr = c.sqlite3_column_blob(pStmt, i);
        const n = c.sqlite3_column_bytes(pStmt, i);
        // Fetched after the calls above: they may grow (and so move) the heap.
        return n === 0 ? new Uint8Array(0) : this.sqlite3.wasm.heap8u().slice(ptr, ptr + n);
      }
      default:
        return null;
    }
  }

  /** UTF-8 at `ptr`, `n` bytes long, or up to its NUL when `n` is -1. */
  private text(ptr: number, n: number): string {
    if (!ptr) return '';
    const heap = this.sqlite3.wasm.heap8u();
    let end = ptr + n;
    if (n < 0) for (end = ptr; heap[end] !== 0; end++);
    if (end === ptr) return '';
    // TextDecoder refuses views of shared memory.
    return this.decoder.decode(this.sharedHeap ? heap.slice(ptr, end) : heap.subarray(ptr, end));
  }
}
