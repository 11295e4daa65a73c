import { memo, useDeferredValue, useEffect, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useQuery, useQuireClient } from '@quire/react';
import type { QueryStats, Row } from '@quire/core';
import { formatCell } from './sql-cell.js';

/**
 * The most rows the panel shows (its table scrolls about 15): the panel
 * follows every change, and rendering a thousand rows for each one cost
 * more than the list itself.
 */
const ROW_LIMIT = 100;

// The engine's refusals of SQL that is not a single read (SQLite decides, not this panel).
const REFUSALS = new Set(['read_only_query', 'multiple_statements']);

const EXAMPLES = [
  { label: 'All todos', sql: 'SELECT * FROM todos ORDER BY position' },
  {
    label: 'Counts',
    sql: 'SELECT count(*) AS total,\n  coalesce(sum(completed), 0) AS completed,\n  count(*) - coalesce(sum(completed), 0) AS active\nFROM todos',
  },
  { label: 'Longest titles', sql: 'SELECT title, length(title) AS chars\nFROM todos ORDER BY chars DESC LIMIT 5' },
  { label: 'Sync ledger', sql: 'SELECT * FROM __quire_clients' },
  { label: 'Schema', sql: 'SELECT type, name, sql FROM sqlite_schema' },
] as const;

/**
 * A live, read-only SQL console over this browser's replica: results update
 * whenever the rows they read change, locally or from another user. Quire's
 * queries only read (SQLite refuses anything else with `read_only_query`),
 * so the panel runs what the user typed as it is.
 */
export function SqlPanel() {
  const [draft, setDraft] = useState<string>(EXAMPLES[0].sql);
  const [submitted, setSubmitted] = useState<string>(EXAMPLES[0].sql);
  const empty = submitted.trim() === '';
  const cost = useQueryCost(empty ? undefined : submitted);
  // The live query starts once the cost was measured, so the cost shows what
  // the query alone had to fetch into this partial replica.
  const result = useQuery<Row>(empty ? 'SELECT 1' : submitted, [], { enabled: !empty && cost?.sql === submitted });
  const refused = result.error !== undefined && REFUSALS.has((result.error as { code?: string }).code ?? '');
  // The table follows the list's changes after the list has painted them: a
  // change renders the todos at once and the panel in a background render.
  const rows = useDeferredValue(result.rows);

  const run = (sql: string) => {
    setDraft(sql);
    setSubmitted(sql);
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    run(draft);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run(draft);
    }
  };

  return (
    <section className="sql-panel" data-testid="sql-panel" aria-labelledby="sql-panel-title">
      <header className="sql-header">
        <h2 id="sql-panel-title">Live SQL</h2>
        <p>Read-only queries on this browser's copy of the list. Results follow every change, yours or anyone's.</p>
      </header>
      <form onSubmit={onSubmit}>
        <textarea
          className="sql-input"
          data-testid="sql-input"
          aria-label="SQL query"
          spellCheck={false}
          rows={4}
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={onKeyDown}
        />
        <div className="sql-actions">
          <button type="submit" className="sql-run" data-testid="sql-run">
            Run
          </button>
          <span className="sql-hint">Ctrl+Enter</span>
          <span className="sql-examples">
            {EXAMPLES.map((example) => (
              <button key={example.label} type="button" className="sql-example" data-testid="sql-example" onClick={() => run(example.sql)}>
                {example.label}
              </button>
            ))}
          </span>
        </div>
      </form>
      {empty ? (
        <SqlMessage kind="refused" text="Type a SELECT query, or pick an example." />
      ) : refused ? (
        <SqlMessage kind="refused" text={(result.error as Error).message} />
      ) : result.error !== undefined ? (
        <SqlMessage kind="error" text={sqlErrorText(result.error)} />
      ) : rows ? (
        <>
          <ResultTable rows={rows} />
          {cost?.stats && <QueryCost stats={cost.stats} />}
        </>
      ) : (
        <p className="sql-count">Running…</p>
      )}
    </section>
  );
}

/** What a query cost when it first ran: pages SQLite read, and what had to be fetched for it. */
function useQueryCost(sql: string | undefined): { sql: string; stats: QueryStats | undefined } | undefined {
  const client = useQuireClient();
  const [cost, setCost] = useState<{ sql: string; stats: QueryStats | undefined }>();
  useEffect(() => {
    if (sql === undefined) return;
    let current = true;
    client.measureQuery(sql).then(
      ({ stats }) => current && setCost({ sql, stats }),
      // The live query reports the error.
      () => current && setCost({ sql, stats: undefined }),
    );
    return () => {
      current = false;
    };
  }, [client, sql]);
  return cost;
}

function QueryCost({ stats }: { stats: QueryStats }) {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return (
    <p className="sql-cost" data-testid="sql-cost" data-fetched={stats.pagesFetched}>
      First run read {plural(stats.pagesRead, 'page')}; fetched {plural(stats.pagesFetched, 'page')} from the server in {plural(stats.roundTrips, 'round trip')}.
    </p>
  );
}

function SqlMessage({ kind, text }: { kind: 'refused' | 'error'; text: string }) {
  return (
    <p className={`sql-error sql-error--${kind}`} role="alert" data-testid="sql-error" data-kind={kind}>
      <strong>{kind === 'refused' ? 'Not run' : 'SQL error'}:</strong> {text}
    </p>
  );
}

const ResultTable = memo(function ResultTable({ rows }: { rows: readonly Row[] }) {
  const shown = rows.slice(0, ROW_LIMIT);
  const columns = shown.length > 0 ? Object.keys(shown[0]!) : [];
  const count = rows.length > ROW_LIMIT ? `first ${ROW_LIMIT} of ${rows.length} rows` : `${rows.length} ${rows.length === 1 ? 'row' : 'rows'}`;
  return (
    <>
      <p className="sql-count" data-testid="sql-row-count" data-count={shown.length}>
        {count} <span className="sql-live">live</span>
      </p>
      {shown.length > 0 && (
        <div className="sql-table-wrap">
          <table className="sql-results" data-testid="sql-results">
            <thead>
              <tr>
                {columns.map((column) => (
                  <th key={column} scope="col">
                    {column}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {shown.map((row, index) => (
                <ResultRow key={index} row={row} columns={columns.join('\u0000')} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
});

/** One result row; memoised, since useQuery keeps unchanged rows identical. */
const ResultRow = memo(function ResultRow({ row, columns }: { row: Row; columns: string }) {
  return (
    <tr>
      {columns.split('\u0000').map((column) => {
        const value = row[column] ?? null;
        return (
          <td key={column} className={value === null ? 'sql-null' : typeof value === 'string' ? undefined : 'sql-number'}>
            {formatCell(value)}
          </td>
        );
      })}
    </tr>
  );
});

/** SQLite's message without the wrapper's noise. */
function sqlErrorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/^SQLITE_\w+: sqlite3 result code \d+: /, '');
}
