import { useState } from 'react';
import { useQuireClient } from '@quire/react';

type State = { kind: 'idle' } | { kind: 'saving'; pages: number; total: number } | { kind: 'saved'; total: number } | { kind: 'failed'; message: string };

/**
 * "Save for offline": the replica is partial (it fetches pages as the list
 * reads them), so this fetches the rest with `hydrate()` and shows how far it is.
 */
export function OfflineCopy() {
  const client = useQuireClient();
  const [state, setState] = useState<State>({ kind: 'idle' });
  const save = () => {
    setState({ kind: 'saving', pages: 0, total: 0 });
    let total = 0;
    client
      .hydrate({
        onProgress: (progress) => {
          total = progress.total;
          setState({ kind: 'saving', ...progress });
        },
      })
      .then(
        () => setState({ kind: 'saved', total }),
        (error: unknown) => setState({ kind: 'failed', message: error instanceof Error ? error.message : String(error) }),
      );
  };
  return (
    <span className="offline-copy" data-testid="offline-copy" data-state={state.kind}>
      <button type="button" className="sync-toggle" data-testid="offline-save" onClick={save} disabled={state.kind === 'saving'}>
        Save for offline
      </button>
      {state.kind === 'saving' && (
        <span className="sync-detail" role="status">
          <progress max={state.total || 1} value={state.pages} data-testid="offline-progress" /> {state.pages}/{state.total} pages
        </span>
      )}
      {state.kind === 'saved' && (
        <span className="sync-detail" role="status" data-testid="offline-saved">
          saved, {state.total} pages
        </span>
      )}
      {state.kind === 'failed' && (
        <span className="sync-problem" role="alert" data-testid="offline-failed">
          {state.message}
        </span>
      )}
    </span>
  );
}
