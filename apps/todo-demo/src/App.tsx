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
 *                 data-state="connected|connecting|reconnecting|offline-by-choice|update_required|waiting_for_server|unauthorized|closed"
 *                 (what the user is told, see sync-state.ts), data-connection (the
 *                 client's own state: connecting|connected|update_required|waiting_for_server|offline|unauthorized|closed)
 *                 and data-lsn=<n> (the server version the replica is at);
 *                 the label is in [data-testid="sync-connection"];
 *                 [data-testid="sync-pending"] (data-pending=<n>) reads
 *                 "All changes saved" or "<n> change(s) not yet saved".
 * App versions    [data-testid="update-banner"] (role=alert) "A new version is available
 *                 — reload" with button [data-testid="update-reload"] while the server
 *                 runs a newer app (connection update_required);
 *                 [data-testid="update-waiting"] (role=status) while it runs an older
 *                 one (waiting_for_server).
 * Offline switch  button [data-testid="sync-toggle"], text exactly
 *                 "Go offline" / "Go online" (what the user asked for).
 * SQL panel       [data-testid="sql-panel"], once the list has its table (before:
 *                 [data-testid="sql-panel-waiting"]); textarea [data-testid="sql-input"]
 *                 (aria-label "SQL query"); button [data-testid="sql-run"] "Run"
 *                 (or Ctrl+Enter); example buttons [data-testid="sql-example"];
 *                 [data-testid="sql-row-count"] "<n> row(s)" (data-count=<n>);
 *                 table [data-testid="sql-results"] (th per column, tbody tr per row);
 *                 [data-testid="sql-error"] (role=alert) with data-kind="refused"
 *                 for non-SELECT statements or "error" for SQLite errors.
 * Presence        [data-testid="who"]: li [data-testid="who-other"] (data-name) per other tab
 *                 on the list; button [data-testid="who-me"] (data-name) opens input
 *                 [data-testid="who-name-input"] (Enter saves the name). A todo whose edit
 *                 field is open elsewhere: li.edited-elsewhere[data-edited-by=<name>]
 *                 with [data-testid="todo-editor"].
 * Inspector       [data-testid="inspector"], collapsed; button [data-testid="inspector-toggle"]
 *                 "Open inspector" / "Close inspector". Open: [data-testid="inspector-body"]
 *                 with [data-testid="inspector-connection"], [data-testid="inspector-lsn"] and
 *                 [data-testid="inspector-durable-lsn"] (data-lsn=<n>), [data-testid="inspector-pages"];
 *                 tables [data-testid="inspector-pending"] and [data-testid="inspector-settled"]
 *                 with a tbody tr per mutation (data-seq, data-name,
 *                 data-state="waiting|applied|sent|committed|confirmed|rejected");
 *                 list [data-testid="inspector-errors"] with li data-source, data-code.
 */
import { InspectorPanel } from './InspectorPanel.js';
import { SqlPanel } from './SqlPanel.js';
import { SyncBar } from './SyncBar.js';
import { TodoApp } from './TodoApp.js';
import { UpdateBanner } from './UpdateBanner.js';
import { WhoIsHere } from './WhoIsHere.js';
import { useHasTodoTable } from './use-todos.js';

/** The page: sync controls, the TodoMVC app and the live SQL panel. */
export function App({ listId }: { listId: string }) {
  const { hasTable } = useHasTodoTable();
  return (
    <>
      <UpdateBanner />
      <SyncBar />
      <WhoIsHere />
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
      {/*
        The panel measures what its query costs when it first runs: it opens
        once the list has its table (after its first todo, or once an existing
        list has synced), not against a replica that has nothing yet.
      */}
      {hasTable ? <SqlPanel /> : <SqlPanelWaiting />}
      <InspectorPanel />
    </>
  );
}

function SqlPanelWaiting() {
  return (
    <section className="sql-panel sql-panel--waiting" data-testid="sql-panel-waiting">
      <h2>Live SQL</h2>
      <p>This list has no data yet: its table appears with the first todo, and the live SQL panel opens here.</p>
    </section>
  );
}
