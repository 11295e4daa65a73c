import { isValidDocId } from '@quire/core/protocol';
import { randomId } from './random-id.js';

/** The query parameter that names the list: `/?list=<id>#/active`. */
export const LIST_PARAM = 'list';

/**
 * The list this page shows. A page without a valid `?list=` gets a new list
 * and moves to its URL in place (no extra history entry), keeping the hash.
 */
export function resolveListId(location: Location = window.location, history: History = window.history): string {
  const url = new URL(location.href);
  const current = url.searchParams.get(LIST_PARAM);
  if (current && isValidDocId(current)) return current;
  const id = randomId();
  url.searchParams.set(LIST_PARAM, id);
  history.replaceState(history.state, '', url);
  return id;
}

