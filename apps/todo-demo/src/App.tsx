/*
 * Selectors for tests (the e2e suite relies on them):
 *
 * List URL        /?list=<id>#/<filter>; opening / makes a new list and
 *                 replaces the URL. [data-testid="list-id"] shows the id.
 *                 A ?list= that is not a valid id shows [data-testid="invalid-list"]
 *                 (role=alert) with a link [data-testid="new-list-link"] to /.
 * TodoMVC         standard markup: .new-todo, .todo-list li[data-id] (.completed,
 *                 .editing) with .toggle, label, .edit, .destroy; .toggle-all
 *                 + label, .todo-count strong, .filters a.selected,
 *                 .clear-completed, .main, .footer.
 * Connection      [data-testid="sync-status"] (role=status) with
 *                 data-state="connected|connecting|reconnecting|offline-by-choice|unauthorized|closed"
 *                 (what the user is told, see sync-state.ts), data-connection (the
 *                 client's own state: connecting|connected|offline|unauthorized|closed)
 *                 and data-lsn=<n> (the server version the replica is at);
 *                 the label is in [data-testid="sync-connection"];
 *                 [data-testid="sync-pending"] (data-pending=<n>) reads
 *                 "All changes saved" or "<n> change(s) not yet saved".
 * Offline switch  button [data-testid="sync-toggle"], text exactly
 *                 "Go offline" / "Go online" (what the user asked for).
 * SQL panel       [data-testid="sql-panel"]; textarea [data-testid="sql-input"]
 *                 (aria-label "SQL query"); button [data-testid="sql-run"] "Run"
 *                 (or Ctrl+Enter); example buttons [data-testid="sql-example"];
 *                 [data-testid="sql-row-count"] "<n> row(s)" (data-count=<n>);
 *                 table [data-testid="sql-results"] (th per column, tbody tr per row);
 *                 [data-testid="sql-error"] (role=alert) with data-kind="refused"
 *                 for non-SELECT statements or "error" for SQLite errors.
 */
import { SqlPanel } from './SqlPanel.js';
import { SyncBar } from './SyncBar.js';
import { TodoApp } from './TodoApp.js';

/** The page: sync controls, the TodoMVC app and the live SQL panel. */
export function App({ listId }: { listId: string }) {
  return (
    <>
      <SyncBar />
      <TodoApp />
      <footer className="info">
        <p>Double-click to edit a todo</p>
        <p>
          List <code data-testid="list-id">{listId}</code>: share this page's address to edit it together ·{' '}
          <a href="/">new list</a>
        </p>
        <p>
          Synced with Quire · Part of <a href="https://todomvc.com">TodoMVC</a>
        </p>
      </footer>
      <SqlPanel />
    </>
  );
}
