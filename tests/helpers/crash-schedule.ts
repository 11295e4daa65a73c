import type { SeededRandom } from './seeded-random.js';

/**
 * One round of the crash loop. Drawn whole from the seed before the loop
 * starts, so the same `QUIRE_SEED` gives the same kill schedule however the
 * real processes happen to interleave.
 */
export interface CrashRound {
  /** Load before the server is SIGKILLed. */
  loadMs: number;
  /** The server stays dead this long; clients keep writing offline. */
  downMs: number;
  /**
   * When set, the restarted server is SIGKILLed again this long after it
   * printed its URL: while clients reconnect, catch up and resend what they
   * wrote offline. It comes back after another `downMs`.
   */
  recoveryKillMs?: number;
  /** Load after the (last) restart, before the loop pauses and checks. */
  loadAfterMs: number;
  /**
   * When set, one client process is SIGKILLed too and restarted on the same
   * FileStores: `atMs` into the load, or while the server is down.
   */
  clientKill?: { proc: number; atMs: number; whileServerDown: boolean };
}

export function crashSchedule(rand: SeededRandom, rounds: number, processes: number): CrashRound[] {
  return Array.from({ length: rounds }, () => {
    // A fifth of the kills land right after the load resumes, when the first
    // pushes and group commits are in flight; the rest anywhere in 1.2 s.
    const loadMs = rand.chance(0.2) ? rand.int(40) : 40 + rand.int(1200);
    const round: CrashRound = { loadMs, downMs: rand.int(400), loadAfterMs: rand.int(400) };
    if (rand.chance(0.3)) round.recoveryKillMs = rand.int(250);
    if (rand.chance(0.25)) round.clientKill = { proc: rand.int(processes), atMs: rand.int(Math.max(1, loadMs)), whileServerDown: rand.chance(0.4) };
    return round;
  });
}
