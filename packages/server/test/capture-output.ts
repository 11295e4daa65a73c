import { vi } from 'vitest';

/** What the code under test writes to stdout and stderr, kept instead of printed (undo with `vi.restoreAllMocks()`). */
export function captureOutput(): { out(): string; err(): string; clear(): void } {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  return { out: () => out.join(''), err: () => err.join(''), clear: () => void ((out.length = 0), (err.length = 0)) };
}
