import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { type Migration, type Reducers, type Tx, defineApp, defineReducers } from '@quire/core';
import { SCHEMA_TABLE } from '@quire/core/internal';
import { decodeServerMessage, type ServerMessage } from '@quire/core/protocol';
import { FileCommitLog } from '../log/file-commit-log.js';
import type { CommitLog, CommitRecord } from '../log/commit-log.js';
import { LEVEL, memoryLogger, silentLogger } from '../../test/memory-logger.js';
import type { Logger } from '../logger.js';
import { Coordinator, type Peer } from './coordinator.js';

const reducers = {
  add: (tx: Tx, { title }: { title: string }) => void tx.exec('INSERT INTO notes (title) VALUES (?)', [title]),
};

const V1: Migration[] = [
  'CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL)',
  (tx) => void tx.exec("INSERT INTO notes (title) VALUES ('welcome')"),
];
const V2: Migration[] = [...V1, 'ALTER TABLE notes ADD COLUMN done INTEGER NOT NULL DEFAULT 0'];

const app = (migrations: Migration[], version = migrations.length) => defineApp({ version, migrations, reducers });

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

function open(app: Reducers, logger: Logger = silentLogger): Promise<Coordinator> {
  return Coordinator.open({ docId: 'doc', dir, reducers: app, log: new FileCommitLog(join(dir, 'log')), logger });
}

async function logRecords(): Promise<CommitRecord[]> {
  const log = new FileCommitLog(join(dir, 'log'));
  await log.open();
  const records: CommitRecord[] = [];
  try {
    for await (const record of log.readAfter(0)) records.push(record);
  } finally {
    await log.close();
  }
  return records;
}

const schemaRows = (c: Coordinator) => c.read((db) => db.prepare(`SELECT version, applied_lsn AS lsn FROM ${SCHEMA_TABLE} ORDER BY version`).all());
const titles = (c: Coordinator) => c.read((db) => db.prepare('SELECT title FROM notes ORDER BY id').pluck().all());

/** A peer that keeps what it is sent, errors included. */
function peer(clientId: string) {
  const messages: ServerMessage[] = [];
  const errors: Array<{ code: string; message: string; fatal: boolean; after: string | undefined }> = [];
  const p: Peer = {
    clientId,
    userId: undefined,
    maxMessageBytes: 1 << 20,
    send: (frame) => void messages.push(decodeServerMessage(frame.bytes)),
    sendError: (code, message, _seq, fatal) => void errors.push({ code, message, fatal, after: messages.at(-1)?.type }),
  };
  return { p, messages, errors };
}

/** Every file of the document's folder with its hash (the lock file, the WAL index and an empty WAL aside). */
function digests(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!/server\.lock|-shm$/.test(entry.name) && !(entry.name.endsWith('-wal') && statSync(path).size === 0)) out[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

describe('migrations at open', () => {
  test('a deployed SQL step that was edited since a document ran it is logged as a warning, naming the step; function steps are not compared', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quire-migrations-'));
    await (await open(app(V2))).close();
    const edited: Migration[] = [V1[0]!, (tx) => void tx.exec("INSERT INTO notes (title) VALUES ('hello')"), 'ALTER TABLE notes ADD COLUMN done_at TEXT'];
    const memory = memoryLogger();
    const c = await open(app(edited, 3), memory.logger);
    try {
      const warning = memory.lines.find((l) => l.level === LEVEL.warn && /differs from the one/.test(l.msg));
      expect(warning).toMatchObject({ steps: [3] });
      expect(warning!.msg).toMatch(/^migration 3 of the app differs from the one document "doc" ran — a deployed step must never change/);
    } finally {
      await c.close();
    }
    const quiet = memoryLogger();
    await (await open(app(V2), quiet.logger)).close();
    expect(quiet.lines.filter((l) => l.level >= LEVEL.warn)).toEqual([]);
  });

  test('a new document runs SQL and function steps, with their __quire_schema rows, as LSN 1 in the log', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quire-migrate-'));
    const c = await open(app(V1));
    try {
      expect(c.lsn).toBe(1);
      expect(c.durableLsn).toBe(1);
      expect(c.schemaVersion).toBe(2);
      expect(c.migrated).toEqual({ from: 0, to: 2, lsn: 1 });
      expect(schemaRows(c)).toEqual([
        { version: 1, lsn: 1 },
        { version: 2, lsn: 1 },
      ]);
      expect(titles(c)).toEqual(['welcome']);
    } finally {
      await c.close();
    }
    const records = await logRecords();
    expect(records.map((r) => ({ lsn: r.lsn, settled: r.settled, rejections: r.rejections }))).toEqual([{ lsn: 1, settled: [], rejections: [] }]);
    expect(records[0]!.pages.length).toBeGreaterThan(0);
  });

  test('a document with commits migrates as its next LSN; reopening an up-to-date document runs nothing; server mutations see the new schema', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quire-migrate-'));
    let c = await open(app(V1));
    await c.mutate('add', JSON.stringify({ json: { title: 'a' } }));
    await c.mutate('add', JSON.stringify({ json: { title: 'b' } }));
    expect(c.lsn).toBe(3);
    await c.close();

    c = await open(app(V2));
    try {
      expect(c.migrated).toEqual({ from: 2, to: 3, lsn: 4 });
      expect(c.lsn).toBe(4);
      expect(schemaRows(c)).toEqual([
        { version: 1, lsn: 1 },
        { version: 2, lsn: 1 },
        { version: 3, lsn: 4 },
      ]);
      expect(c.read((db) => db.prepare('SELECT title, done FROM notes ORDER BY id').all())).toEqual([
        { title: 'welcome', done: 0 },
        { title: 'a', done: 0 },
        { title: 'b', done: 0 },
      ]);
      expect(await c.mutate('add', JSON.stringify({ json: { title: 'c' } }))).toEqual({ lsn: 5 });
    } finally {
      await c.close();
    }

    const before = digests();
    c = await open(app(V2));
    try {
      expect(c.migrated).toBeUndefined();
      expect(c.lsn).toBe(5);
      expect(c.schemaVersion).toBe(3);
      // Nothing written: the log and the database are as they were.
      expect(digests()).toEqual(before);
    } finally {
      await c.close();
    }
    expect((await logRecords()).map((r) => r.lsn)).toEqual([1, 2, 3, 4, 5]);
  });

  test('a joining client is welcomed with the document\'s schema version and catches up on the migration\'s pages', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quire-migrate-'));
    let c = await open(app(V1));
    const a = peer('a');
    c.join(a.p, 0, 1);
    await c.snapshot();
    expect(a.messages[0]).toMatchObject({ type: 'welcome', appVersion: 2, schemaVersion: 2, lsn: 1 });
    await c.close();

    c = await open(app(V2));
    try {
      const again = peer('a');
      c.join(again.p, 1, 1);
      await c.snapshot();
      expect(again.messages[0]).toMatchObject({ type: 'welcome', appVersion: 3, schemaVersion: 3, lsn: 2 });
      // From LSN 1, the pages commit 2 (the migration) changed.
      expect(again.messages[1]).toMatchObject({ type: 'commit', lsn: 2, span: 1 });
      expect((again.messages[1] as Extract<ServerMessage, { type: 'commit' }>).pages.length).toBeGreaterThan(0);
      expect(again.errors).toEqual([]);
    } finally {
      await c.close();
    }
  });

  test('plain defineReducers: no schema table, no commit, schema version 0', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quire-migrate-'));
    const c = await open(defineReducers(reducers));
    try {
      expect(c.lsn).toBe(0);
      expect(c.schemaVersion).toBe(0);
      expect(c.migrated).toBeUndefined();
      expect(c.read((db) => db.prepare('SELECT name FROM sqlite_schema WHERE name = ?').get(SCHEMA_TABLE))).toBeUndefined();
      const a = peer('a');
      c.join(a.p, 0, 1);
      await c.snapshot();
      expect(a.messages[0]).toMatchObject({ type: 'welcome', appVersion: 0, schemaVersion: 0 });
    } finally {
      await c.close();
    }
  });

  const failing = (at: 'first' | 'middle' | 'last'): Migration[] => {
    const boom: Migration = (tx) => {
      tx.exec("INSERT INTO notes (title) VALUES ('half')");
      throw new Error('no such thing');
    };
    const good: Migration[] = ['CREATE TABLE tags (name TEXT)', "INSERT INTO tags VALUES ('x')", 'ALTER TABLE notes ADD COLUMN done INTEGER'];
    if (at === 'first') return [...V1, boom, ...good];
    if (at === 'middle') return [...V1, good[0]!, boom, good[1]!];
    return [...V1, ...good, boom];
  };

  test.each(['first', 'middle', 'last'] as const)('a %s step that throws leaves the document byte-identical, logged, serving at its old version', async (at) => {
    dir = mkdtempSync(join(tmpdir(), 'quire-migrate-'));
    let c = await open(app(V1));
    await c.mutate('add', JSON.stringify({ json: { title: 'a' } }));
    const pagesBefore = (await c.snapshot()).pages.map((p) => Buffer.from(p.data).toString('hex'));
    await c.close();
    const before = digests();
    const recordsBefore = await logRecords();

    const migrations = failing(at);
    const step = migrations.findIndex((m) => typeof m === 'function' && m !== V1[1]) + 1;
    const { logger, lines } = memoryLogger();
    c = await open(app(migrations), logger);
    try {
      expect(c.migrationFailure).toMatchObject({ code: 'migration_failed', step, schemaVersion: 2 });
      expect(c.schemaVersion).toBe(2);
      expect(c.lsn).toBe(2);
      // Byte-identical: every file, every page, the log.
      expect(digests()).toEqual(before);
      expect((await c.snapshot()).pages.map((p) => Buffer.from(p.data).toString('hex'))).toEqual(pagesBefore);
      expect(c.read((db) => db.prepare('SELECT name FROM sqlite_schema WHERE name = ?').get('tags'))).toBeUndefined();

      const error = lines.find((l) => l.msg.startsWith('migration failed'));
      expect(error).toMatchObject({ level: LEVEL.error, step, schemaVersion: 2 });
      expect(error!.msg).toContain(`migration ${step} of ${migrations.length} failed on document "doc": no such thing`);

      // It serves: a client joins (and hears why it is not migrated), its mutation is applied.
      const a = peer('a');
      c.join(a.p, 0, 1);
      c.push(a.p, [{ seq: 1, name: 'add', args: JSON.stringify({ json: { title: 'b' } }) }]);
      await c.snapshot();
      expect(a.messages[0]).toMatchObject({ type: 'welcome', schemaVersion: 2 });
      expect(a.errors).toEqual([{ code: 'migration_failed', message: c.migrationFailure!.message, fatal: false, after: 'welcome' }]);
      expect(a.errors[0]!.message).toMatch(/stays at schema version 2 and keeps serving; fix migration \d/);
      expect(titles(c)).toEqual(['welcome', 'a', 'b']);
      expect(c.lsn).toBe(3);
    } finally {
      await c.close();
    }
    expect((await logRecords()).map((r) => r.lsn)).toEqual([...recordsBefore.map((r) => r.lsn), 3]);

    // Fixed, it migrates at the next open.
    c = await open(app([...V1, 'CREATE TABLE tags (name TEXT)']));
    try {
      expect(c.migrated).toEqual({ from: 2, to: 3, lsn: 4 });
    } finally {
      await c.close();
    }
  });

  test('a failing step that spilled pages into the WAL leaves no trace: the next commits and a reopen are as if it never ran', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quire-migrate-'));
    let c = await open(app(V1));
    const pagesBefore = (await c.snapshot()).pages.map((p) => Buffer.from(p.data).toString('hex'));
    await c.close();
    const before = digests();
    // ~24 MB: more than SQLite's page cache holds, so the transaction writes frames to the WAL before it fails.
    const spill: Migration = (tx) => {
      tx.exec('CREATE TABLE big (b BLOB)');
      for (let i = 0; i < 6000; i++) tx.exec('INSERT INTO big VALUES (randomblob(4000))');
      throw new Error('too big');
    };
    c = await open(app([...V1, spill]));
    try {
      expect(c.migrationFailure?.message).toContain('too big');
      const after = digests();
      // The case this test is about: frames of the rolled-back transaction are in the WAL.
      expect(statSync(join(dir, 'document.sqlite-wal')).size).toBeGreaterThan(1 << 20);
      delete after['document.sqlite-wal'];
      expect(after).toEqual(before);
      expect((await c.snapshot()).pages.map((p) => Buffer.from(p.data).toString('hex'))).toEqual(pagesBefore);
      expect(await c.mutate('add', JSON.stringify({ json: { title: 'after' } }))).toEqual({ lsn: 2 });
    } finally {
      await c.close();
    }
    c = await open(app(V1));
    try {
      expect(c.lsn).toBe(2);
      expect(titles(c)).toEqual(['welcome', 'after']);
      expect(c.read((db) => db.pragma('integrity_check', { simple: true }))).toBe('ok');
    } finally {
      await c.close();
    }
  });

  test('steps that would end the transaction or return a promise fail the migration, and nothing is applied', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quire-migrate-'));
    const cases: Array<[Migration, RegExp]> = [
      ['CREATE TABLE t (x); COMMIT; CREATE TABLE u (y)', /migration 3 runs "COMMIT"/],
      ['CREATE TABLE t (x); /* done */ begin', /migration 3 runs "begin"/],
      ['CREATE TABLE t (x);\n  rollback', /migration 3 runs "rollback"/],
      [(tx) => void tx.exec('COMMIT'), /reducers must not run "COMMIT"/],
      [async (tx) => void tx.exec('CREATE TABLE t (x)'), /migration 3 returned a promise/],
    ];
    (await open(app(V1)).then((c) => c.close()));
    for (const [step, message] of cases) {
      const c = await open(app([...V1, step]));
      try {
        expect(c.migrationFailure?.message).toMatch(message);
        expect(c.lsn).toBe(1);
        expect(c.read((db) => db.prepare("SELECT name FROM sqlite_schema WHERE name IN ('t', 'u')").all())).toEqual([]);
      } finally {
        await c.close();
      }
    }
    // SAVEPOINT, a trigger body's END, and the words in literals, names and comments are fine.
    const c = await open(
      app([...V1, "SAVEPOINT s; CREATE TABLE t (x); ROLLBACK TO s; RELEASE s; CREATE TRIGGER tr AFTER INSERT ON notes BEGIN SELECT 1; END; INSERT INTO notes (title) VALUES ('a; commit'); CREATE TABLE \"x;begin\" (y) -- ; rollback"]),
    );
    try {
      expect(c.migrationFailure).toBeUndefined();
      expect(c.schemaVersion).toBe(3);
    } finally {
      await c.close();
    }
  });

  test('a migration the log cannot make durable fails the open, and the next open runs it again from the old version', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quire-migrate-'));
    await open(app(V1)).then((c) => c.close());
    const file = new FileCommitLog(join(dir, 'log'));
    const failing: CommitLog = Object.assign(Object.create(file) as CommitLog, {
      append: () => Promise.reject(new Error('disk full')),
    });
    let failures = 0;
    const opening = Coordinator.open({ docId: 'doc', dir, reducers: app(V2), log: failing, logger: silentLogger, onFailure: () => void failures++ });
    await expect(opening).rejects.toThrow('disk full');
    // The open reports it; the registry's onFailure is for coordinators it was handed.
    expect(failures).toBe(0);

    // Lock released, log closed: it opens again, without the commit the log never had, and migrates.
    const c = await open(app(V2));
    try {
      expect(c.migrated).toEqual({ from: 2, to: 3, lsn: 2 });
      expect(schemaRows(c)).toEqual([
        { version: 1, lsn: 1 },
        { version: 2, lsn: 1 },
        { version: 3, lsn: 2 },
      ]);
    } finally {
      await c.close();
    }
    expect((await logRecords()).map((r) => r.lsn)).toEqual([1, 2]);
  });

  test('a step that ends the transaction where the check cannot see it (END) stops the open, and the next open has none of it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quire-migrate-'));
    await open(app(V1)).then((c) => c.close());
    const { logger } = memoryLogger();
    await expect(open(app([...V1, 'CREATE TABLE t (x); END; CREATE TABLE u (y)']), logger)).rejects.toMatchObject({
      code: 'transaction_control',
      message: expect.stringContaining('migration 3 of document "doc" ended the migration\'s transaction'),
    });
    // Closed without a checkpoint: the reopen rolls the WAL back to the log, which never had it.
    const c = await open(app(V1));
    try {
      expect(c.lsn).toBe(1);
      expect(c.read((db) => db.prepare("SELECT name FROM sqlite_schema WHERE name IN ('t', 'u')").all())).toEqual([]);
      expect(schemaRows(c)).toEqual([
        { version: 1, lsn: 1 },
        { version: 2, lsn: 1 },
      ]);
    } finally {
      await c.close();
    }
  });

  test('a document migrated by a newer app is not opened (schema_too_new), and is left as it was', async () => {
    dir = mkdtempSync(join(tmpdir(), 'quire-migrate-'));
    await open(app(V2)).then((c) => c.close());
    const before = digests();
    await expect(open(app(V1))).rejects.toMatchObject({ code: 'schema_too_new', message: expect.stringMatching(/schema version 3, but this server's app \(version 2\) declares 2 migration\(s\).*run the newer version of the server/) });
    await expect(open(defineReducers(reducers))).rejects.toMatchObject({ code: 'schema_too_new' });
    expect(digests()).toEqual(before);
    // The lock was released: the newer app opens it.
    const c = await open(app(V2));
    expect(c.lsn).toBe(1);
    await c.close();
  });
});
