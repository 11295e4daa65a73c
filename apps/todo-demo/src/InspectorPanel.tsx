import { useState } from 'react';
import type { ClientInspection, InspectedMutation } from '@quire/core';
import { useInspection } from '@quire/react';

/**
 * What the client shows of itself (`client.subscribeInspection`): its
 * pending mutations and their state, LSN and durable LSN, pages, and recent
 * errors. Collapsed by default: the client does the work only while the
 * panel is open, and the panel re-renders at most every 150 ms, so the list
 * above stays as quick with it open.
 */
export function InspectorPanel() {
  const [open, setOpen] = useState(false);
  return (
    <section className="inspector" data-testid="inspector" aria-label="Inspector">
      <header className="inspector-header">
        <h2>Inspector</h2>
        <button type="button" data-testid="inspector-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? 'Close inspector' : 'Open inspector'}
        </button>
      </header>
      {open && <InspectorBody />}
    </section>
  );
}

function InspectorBody() {
  const inspection = useInspection();
  if (!inspection) return <p className="inspector-note">Waiting for the engine…</p>;
  return (
    <div data-testid="inspector-body">
      <Summary inspection={inspection} />
      <h3>Pending ({inspection.pendingCount})</h3>
      {inspection.pending.length === 0 ? (
        <p className="inspector-note">Nothing pending: every change is in the server's log.</p>
      ) : (
        <Mutations testId="inspector-pending" mutations={inspection.pending} />
      )}
      <h3>Recently settled</h3>
      {inspection.settled.length === 0 ? (
        <p className="inspector-note">Changes the server confirms or rejects while this panel is open show here.</p>
      ) : (
        <Mutations testId="inspector-settled" mutations={inspection.settled} />
      )}
      <h3>Recent errors</h3>
      {inspection.errors.length === 0 ? (
        <p className="inspector-note">None.</p>
      ) : (
        <ul className="inspector-errors" data-testid="inspector-errors">
          {inspection.errors.map((e, i) => (
            <li key={`${e.at}-${i}`} data-source={e.source} data-code={e.code}>
              <time>{clock(e.at)}</time> <code>{e.code}</code> {e.message}
              {e.count > 1 && <span className="inspector-count"> ×{e.count}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Summary({ inspection }: { inspection: ClientInspection }) {
  const { connection, lsn, durableLsn, pages, received } = inspection;
  return (
    <dl className="inspector-summary">
      <dt>Connection</dt>
      <dd data-testid="inspector-connection">{connection}</dd>
      <dt>LSN</dt>
      <dd data-testid="inspector-lsn" data-lsn={lsn}>
        {lsn}
      </dd>
      <dt>Durable LSN</dt>
      <dd data-testid="inspector-durable-lsn" data-lsn={durableLsn}>
        {durableLsn}
      </dd>
      <dt>Pages held</dt>
      <dd data-testid="inspector-pages">
        {pages.held} of {pages.total} ({pages.fetched} fetched)
      </dd>
      <dt>Received</dt>
      <dd>
        {received.frames} frames, {bytes(received.bytes)}
      </dd>
    </dl>
  );
}

function Mutations({ testId, mutations }: { testId: string; mutations: readonly InspectedMutation[] }) {
  return (
    <table className="inspector-table" data-testid={testId}>
      <thead>
        <tr>
          <th>seq</th>
          <th>reducer</th>
          <th>arguments</th>
          <th>state</th>
        </tr>
      </thead>
      <tbody>
        {mutations.map((m) => (
          <tr key={m.seq} data-seq={m.seq} data-name={m.name} data-state={m.state}>
            <td>{m.seq}</td>
            <td>{m.name}</td>
            <td className="inspector-args">{m.args}</td>
            <td className={`inspector-state inspector-state--${m.state}`}>
              {m.state}
              {m.lsn !== undefined && ` at LSN ${m.lsn}`}
              {m.error && ` (${m.error.code}: ${m.error.message})`}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const clock = (at: number) => new Date(at).toLocaleTimeString();

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
