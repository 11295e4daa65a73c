import { readFileSync } from 'node:fs';

/** How often the child's CPU time is read. */
const CHECK_MS = 250;

/** CPU time a process has used, in clock ticks, all threads; undefined once it is gone (or without /proc). */
function cpuTicksOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name (in parentheses, and it may hold spaces) start at field 3;
    // utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

export interface ProgressWatch {
  /** The child showed a sign of life (it printed something). */
  progressed(): void;
  stop(): void;
}

/**
 * Calls `onStall` once a child process has gone `stallMs` without a sign of
 * progress: no output (report it with `progressed()`) and no CPU time used.
 * A child doing its start-up work on a busy machine keeps using CPU, however
 * slowly, so it is waited for; a hung one is not. A fixed deadline instead
 * is a timing assertion that a busy CI machine fails.
 */
export function watchProgress(pid: number, stallMs: number, onStall: () => void): ProgressWatch {
  let ticks = cpuTicksOf(pid);
  let lastSign = Date.now();
  const timer = setInterval(() => {
    const now = cpuTicksOf(pid);
    if (now !== undefined && now !== ticks) {
      ticks = now;
      lastSign = Date.now();
    }
    if (Date.now() - lastSign < stallMs) return;
    clearInterval(timer);
    onStall();
  }, CHECK_MS);
  timer.unref();
  return {
    progressed: () => void (lastSign = Date.now()),
    stop: () => clearInterval(timer),
  };
}
