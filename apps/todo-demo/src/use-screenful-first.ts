import { startTransition, useEffect, useState } from 'react';

/** How many items a first render shows: more than a tall window holds (an item is 60px high). */
export const SCREENFUL = 30;

/**
 * The items to render now. The first render that has items shows only the
 * first screenful of a long list, so the browser paints what the user sees
 * without waiting for a thousand items it would lay out off screen. The
 * rest follow at once, in a transition: React renders them in slices that
 * let the browser paint and handle input between. From then on every item
 * renders, always (a list that grows past a screenful later is not cut).
 */
export function useScreenfulFirst<T>(items: readonly T[]): readonly T[] {
  const [shownOnce, setShownOnce] = useState(false);
  const first = !shownOnce && items.length > 0;
  useEffect(() => {
    if (first) startTransition(() => setShownOnce(true));
  }, [first]);
  return first && items.length > SCREENFUL ? items.slice(0, SCREENFUL) : items;
}
