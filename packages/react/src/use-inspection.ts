import { useEffect, useState } from 'react';
import type { ClientInspection } from '@quire/core';
import { useQuireClient } from './quire-provider.js';

/**
 * The client's {@link ClientInspection} (pending mutations and their state,
 * LSNs, pages, recent errors), live: undefined until the first one arrives,
 * then a new one at most every 150 ms while something changes. The client
 * does the work only while a component using this hook is mounted: mount it
 * in a panel the user opens, not in every row.
 *
 * @example
 * const inspection = useInspection();
 * return <ul>{inspection?.pending.map((m) => <li key={m.seq}>{m.name} {m.state}</li>)}</ul>;
 */
export function useInspection(): ClientInspection | undefined {
  const client = useQuireClient();
  const [inspection, setInspection] = useState<ClientInspection | undefined>(undefined);
  useEffect(() => {
    setInspection(undefined);
    return client.subscribeInspection(setInspection);
  }, [client]);
  return inspection;
}
