import { useSyncExternalStore } from 'react';

export type Filter = 'all' | 'active' | 'completed';

/** The filters in display order, with their TodoMVC hash routes. */
export const FILTERS = [
  { filter: 'all', href: '#/', label: 'All' },
  { filter: 'active', href: '#/active', label: 'Active' },
  { filter: 'completed', href: '#/completed', label: 'Completed' },
] as const satisfies readonly { filter: Filter; href: string; label: string }[];

/** Reads the filter from a hash such as `#/active`; anything unknown shows all. */
export function filterFromHash(hash: string): Filter {
  const route = hash.replace(/^#\/?/, '');
  return route === 'active' || route === 'completed' ? route : 'all';
}

function subscribe(notify: () => void): () => void {
  window.addEventListener('hashchange', notify);
  return () => window.removeEventListener('hashchange', notify);
}

/** The current filter, following the location hash. */
export function useFilter(): Filter {
  return useSyncExternalStore(subscribe, () => filterFromHash(window.location.hash));
}
