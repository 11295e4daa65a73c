import { createHash } from 'node:crypto';
import DatabaseConstructor from 'better-sqlite3';
import type Database from 'better-sqlite3';
import { type Migration, QuireError } from '@quire/core';
import { CallTx, PARITY_PRAGMAS, SCHEMA_TABLE, errorMessage, reducerTx } from '@quire/core/internal';
import { ServerTx } from './server-tx.js';

/**
 * A step that would end the transaction the steps run in: its effects
 * would commit outside the log. Checked at the start of each statement
 * (string literals, quoted names and comments removed first); `END` is left
 * out, since it closes every trigger body: `runMigrations` catches that one
 * after the fact.
 */
const TRANSACTION_CONTROL = /(?:^|;)\s*(BEGIN|COMMIT|ROLLBACK(?!\s+(?:TRANSACTION\s+)?TO\b))\b/i;
const LITERALS_AND_COMMENTS = /'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/g;

/** What identifies a SQL step's text (a function step has none: its source changes with every build tool). */
function stepHash(step: Migration): string | null {
  return typeof step === 'string' ? createHash('sha256').update(step).digest('hex') : null;
}

/**
 * The steps the document ran whose SQL is not the app's any more: a
 * deployed step was edited, and documents that ran the old text differ
 * from those that will run the new one.
 */
export function editedSteps(db: Database.Database, migrations: readonly Migration[]): number[] {
  if (!hasSchemaTable(db)) return [];
  const ran = db.prepare(`SELECT version, sql_sha256 AS hash FROM ${SCHEMA_TABLE} WHERE version <= ? ORDER BY version`).all(migrations.length) as Array<{ version: number; hash: string | null }>;
  return ran.filter(({ version, hash }) => hash !== stepHash(migrations[version - 1]!)).map(({ version }) => version);
}

/** Whether the document ever ran a migration (`__quire_schema` exists). */
function hasSchemaTable(db: Database.Database): boolean {
  return db.prepare('SELECT 1 FROM sqlite_schema WHERE type = ? AND name = ?').get('table', SCHEMA_TABLE) !== undefined;
}

/** A document's schema version: the highest step in `__quire_schema`, 0 without the table. */
export function schemaVersionOf(db: Database.Database): number {
  if (!hasSchemaTable(db)) return 0;
  return (db.prepare(`SELECT max(version) FROM ${SCHEMA_TABLE}`).pluck().get() as number | null) ?? 0;
}

/**
 * Runs every step on an empty in-memory database, as for a new document:
 * a step that fails there fails for every new document. Returns that
 * failure (the server logs it at start, rather than at a client's first
 * open), or undefined.
 */
export function rehearseMigrations(migrations: readonly Migration[]): MigrationError | QuireError | undefined {
  if (migrations.length === 0) return undefined;
  const db = new DatabaseConstructor(':memory:');
  try {
    for (const pragma of PARITY_PRAGMAS) db.exec(`PRAGMA ${pragma}`);
    runMigrations(db, new ServerTx(db), migrations, 0, 1, '(new)');
    return undefined;
  } catch (error) {
    if (error instanceof QuireError) return error;
    throw error;
  } finally {
    db.close();
  }
}

/** A migration step threw: nothing of the migration was applied. */
export class MigrationError extends QuireError {
  constructor(
    message: string,
    /** The step that threw, numbered from 1 as in the app's `migrations`. */
    readonly step: number,
    /** The document's schema version, unchanged. */
    readonly schemaVersion: number,
    cause: unknown,
  ) {
    super('migration_failed', message, { cause });
  }
}

/**
 * Runs steps `from + 1` to `migrations.length` in one transaction, each
 * with its `__quire_schema` row `(version, lsn)`: the commit that follows is
 * the document's LSN `lsn`. A step that throws rolls the whole transaction
 * back and throws a {@link MigrationError}: the document is as before. A
 * step that ended the transaction itself (its effects may be in the WAL,
 * never in the log) throws `transaction_control`: the caller must close the
 * volume without a checkpoint, so that the next open rolls the WAL back.
 */
export function runMigrations(db: Database.Database, serverTx: ServerTx, migrations: readonly Migration[], from: number, lsn: number, docId: string): void {
  let step = from;
  // Deferred, as a batch's (see run-batch.ts): IMMEDIATE would write the attached server.lock.
  db.exec('BEGIN');
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS ${SCHEMA_TABLE} (version INTEGER PRIMARY KEY, applied_lsn INTEGER NOT NULL, sql_sha256 TEXT)`);
    const record = db.prepare(`INSERT INTO ${SCHEMA_TABLE} (version, applied_lsn, sql_sha256) VALUES (?, ?, ?)`);
    for (step = from + 1; step <= migrations.length; step++) {
      runStep(db, serverTx, migrations[step - 1]!, step);
      // Run outside the transaction, the next statements would each commit on their own.
      if (!db.inTransaction) throw new Error('the transaction ended');
      record.run(step, lsn, stepHash(migrations[step - 1]!));
    }
    db.exec('COMMIT');
  } catch (error) {
    if (!db.inTransaction) {
      throw new QuireError('transaction_control', `migration ${step} of document "${docId}" ended the migration's transaction (with END, COMMIT or ROLLBACK) — remove that statement: Quire runs every pending step in one transaction`, { cause: error });
    }
    db.exec('ROLLBACK');
    throw new MigrationError(
      `migration ${step} of ${migrations.length} failed on document "${docId}": ${errorMessage(error)} — the whole migration was rolled back: the document stays at schema version ${from} and keeps serving; fix migration ${step} in the app (a step not deployed yet may still change) and restart the server, or run quire migrate`,
      step,
      from,
      error,
    );
  }
}

function runStep(db: Database.Database, serverTx: ServerTx, migration: Migration, step: number): void {
  if (typeof migration === 'string') {
    const control = TRANSACTION_CONTROL.exec(migration.replace(LITERALS_AND_COMMENTS, (m) => (m.startsWith('-') || m.startsWith('/') ? ' ' : "''")));
    if (control) throw new QuireError('transaction_control', `migration ${step} runs "${control[1]}" — Quire runs every pending step in one transaction; use SAVEPOINT for nested rollbacks`);
    db.exec(migration);
    return;
  }
  // Closed once the step returns: a late write (after an await) must not land outside the transaction.
  const tx = new CallTx(reducerTx(serverTx), `migration ${step}`);
  try {
    const result: unknown = migration(tx);
    if (result !== null && typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      // Nothing more can run through tx, and the rollback undoes what ran.
      (result as Promise<unknown>).then(undefined, () => {});
      throw new QuireError('async_reducer', `migration ${step} returned a promise — a migration must be synchronous: do every read and write before returning, without await`);
    }
  } finally {
    tx.close();
  }
}
