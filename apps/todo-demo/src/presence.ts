/**
 * Who is on the list: each tab's presence state, and the name the user goes
 * by, kept in localStorage (generated the first time) so it outlives reloads.
 */

/** This demo's presence state (`client.presence`). */
export interface TodoPresence {
  name: string;
  colour: string;
  /** The id of the todo whose edit field is open in that tab, or null. */
  editing: string | null;
}

const NAME_KEY = 'quire-demo:name';
const MAX_NAME = 40;
const ADJECTIVES = ['Amber', 'Brisk', 'Calm', 'Dapper', 'Eager', 'Fuzzy', 'Gentle', 'Happy', 'Jolly', 'Keen', 'Lucky', 'Merry', 'Nimble', 'Plucky', 'Quiet', 'Sunny'];
const ANIMALS = ['Otter', 'Badger', 'Heron', 'Lynx', 'Panda', 'Robin', 'Fox', 'Koala', 'Marmot', 'Newt', 'Owl', 'Puffin', 'Seal', 'Tapir', 'Wombat', 'Yak'];
// Readable on white, apart from one another.
const COLOURS = ['#d1495b', '#edae49', '#00798c', '#30638e', '#6a4c93', '#2a9d8f', '#e76f51', '#8ab17d'];

/** A name such as "Quiet Otter". */
export function generatedName(random: () => number = Math.random): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  return `${pick(ADJECTIVES)} ${pick(ANIMALS)}`;
}

/** The name this browser goes by: stored, or generated and stored. */
export function storedName(storage: Storage | undefined = globalThis.localStorage): string {
  try {
    const stored = storage?.getItem(NAME_KEY);
    if (stored) return stored;
    const name = generatedName();
    storage?.setItem(NAME_KEY, name);
    return name;
  } catch {
    // Storage disabled: a name for this page only.
    return generatedName();
  }
}

/** Keeps `name` (trimmed, at most 40 characters) for the next visits; returns what was kept, or undefined for a blank one. */
export function saveName(name: string, storage: Storage | undefined = globalThis.localStorage): string | undefined {
  const kept = name.trim().slice(0, MAX_NAME);
  if (!kept) return undefined;
  try {
    storage?.setItem(NAME_KEY, kept);
  } catch {
    // Storage disabled: the name lasts until the page closes.
  }
  return kept;
}

/** "Quiet Otter" → "QO", "ann" → "A". */
export function initials(name: string): string {
  return name
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .map((word) => Array.from(word)[0] ?? '')
    .join('')
    .toUpperCase();
}

/** The same name always gets the same colour. */
export function colourOf(name: string): string {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  return COLOURS[hash % COLOURS.length]!;
}

/** This tab's state as it starts. */
export function initialPresence(): TodoPresence {
  const name = storedName();
  return { name, colour: colourOf(name), editing: null };
}
