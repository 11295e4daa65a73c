/**
 * What a read-only query may ask SQLite to do, as an authorizer decision.
 * SQLite calls the authorizer for every action a statement will take while
 * it compiles it, so nothing reaches the replica by a path the parser of a
 * guard would miss (`WITH … DELETE`, triggers, `PRAGMA x = y`, `BEGIN`).
 */

// SQLite's authorizer action codes (sqlite3.h) a read needs.
const SQLITE_PRAGMA = 19;
const SQLITE_READ = 20;
const SQLITE_SELECT = 21;
const SQLITE_FUNCTION = 31;
const SQLITE_RECURSIVE = 33;

// Pragmas that only report. Those in the first set take a table or index
// name (or a row limit) as their argument; the others must have none, or
// they would set something.
const NAMED_ARGUMENT_PRAGMAS = new Set([
  'table_info',
  'table_xinfo',
  'index_list',
  'index_info',
  'index_xinfo',
  'foreign_key_list',
  'foreign_key_check',
  'integrity_check',
  'quick_check',
]);
const REPORTING_PRAGMAS = new Set([
  'table_list',
  'database_list',
  'collation_list',
  'function_list',
  'module_list',
  'pragma_list',
  'compile_options',
  'page_count',
  'page_size',
  'freelist_count',
  'schema_version',
  'user_version',
  'application_id',
  'data_version',
  'encoding',
  'foreign_keys',
  'recursive_triggers',
  'case_sensitive_like',
  'journal_mode',
  'auto_vacuum',
  'cache_size',
]);

// Names for the refusals users are likely to meet; the rest say "action N".
const ACTION_NAMES: Record<number, string> = {
  9: 'DELETE',
  18: 'INSERT',
  23: 'UPDATE',
  22: 'BEGIN/COMMIT/ROLLBACK',
  32: 'SAVEPOINT',
  24: 'ATTACH',
  25: 'DETACH',
  26: 'ALTER TABLE',
  27: 'REINDEX',
  28: 'ANALYZE',
};

/**
 * Undefined when a read-only query may take this action; otherwise what it
 * would have done, for the error message. Arguments are the authorizer's.
 */
export function refuseInRead(action: number, arg1: string | 0, arg2: string | 0): string | undefined {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
      return undefined;
    case SQLITE_PRAGMA: {
      const name = typeof arg1 === 'string' ? arg1.toLowerCase() : '';
      if (NAMED_ARGUMENT_PRAGMAS.has(name)) return undefined;
      if (REPORTING_PRAGMAS.has(name) && !arg2) return undefined;
      return `PRAGMA ${name}${arg2 ? ` = ${arg2}` : ''}`;
    }
    default: {
      const named = ACTION_NAMES[action];
      // Codes 1–17 other than DELETE are CREATE and DROP of tables, indexes, triggers and views.
      const what = named ?? (action >= 1 && action <= 17 ? 'CREATE/DROP' : `action ${action}`);
      return typeof arg1 === 'string' && (action === 9 || action === 18 || action === 23) ? `${what} on ${arg1}` : what;
    }
  }
}
