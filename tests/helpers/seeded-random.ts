import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export interface SeededRandom {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** Seeded randomness (pure-rand, the generator fast-check uses), so a failing run replays from its seed. */
export function seededRandom(seed: number): SeededRandom {
  const rng = xoroshiro128plus(seed);
  const int = (n: number) => uniformInt(rng, 0, n - 1);
  return {
    next: () => uniformFloat64(rng),
    int,
    pick: (items) => items[int(items.length)]!,
    chance: (p) => uniformFloat64(rng) < p,
  };
}

/** The seed for a randomized suite: `QUIRE_SEED` when set, else a fresh one. */
export function seedFromEnv(): number {
  const fromEnv = process.env.QUIRE_SEED;
  return fromEnv ? Number(fromEnv) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
}
