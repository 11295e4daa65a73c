import { startTransition, useEffect, useState } from 'react';

/** How many items a first render shows: more than a tall window holds (an item is 60px high). */
export const SCREENFUL = 30;

/**
 * The items to render now. A long list's first render shows only its first
 * screenful, so the browser paints what the user sees without waiting for
 * a thousand items it would lay out off screen. The rest follow at once, in
 * a transition: React renders them in slices that let the browser paint and
 * handle input between. From then on every item renders, always.
 */
export function useScreenfulFirst<T>(items: readonly T[]): readonly T[] {
  const [all, setAll] = useState(false);
  const cut = !all && items.length > SCREENFUL;
  useEffect(() => {
    if (cut) startTransition(() => setAll(true));
  }, [cut]);
  return cut ? items.slice(0, SCREENFUL) : items;
}
