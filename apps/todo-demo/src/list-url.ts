import { isValidDocId } from '@quire/core/protocol';
import { randomId } from './random-id.js';

/** The query parameter that names the list: `/?list=<id>#/active`. */
export const LIST_PARAM = 'list';

/** What the address asks for: a list, or a `?list=` that cannot name one. */
export type ListAddress = { kind: 'list'; id: string } | { kind: 'invalid'; given: string };

/**
 * The list this page shows. A page without `?list=` gets a new list and moves
 * to its URL in place (no extra history entry), keeping the hash. A `?list=`
 * that is not a valid id is reported, not replaced: a mistyped or truncated
 * link must not silently open a different, empty list.
 */
export function resolveListAddress(location: Location = window.location, history: History = window.history): ListAddress {
  const url = new URL(location.href);
  const given = url.searchParams.get(LIST_PARAM);
  if (given !== null) return isValidDocId(given) ? { kind: 'list', id: given } : { kind: 'invalid', given };
  const id = randomId();
  url.searchParams.set(LIST_PARAM, id);
  history.replaceState(history.state, '', url);
  return { kind: 'list', id };
}
