import type { ChildProcess } from 'node:child_process';

/** Child processes a helper started, so none outlives a test or the test runner. */
export interface ChildReaper {
  add(child: ChildProcess): void;
  delete(child: ChildProcess): void;
  /** SIGKILLs every tracked child that is still running and waits for the exits. */
  killAll(): Promise<void>;
}

export function childReaper(): ChildReaper {
  const live = new Set<ChildProcess>();
  // Never leave a child behind, even if the test runner dies first.
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  return {
    add: (child) => void live.add(child),
    delete: (child) => void live.delete(child),
    async killAll() {
      await Promise.all(
        [...live].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGKILL');
            }),
        ),
      );
      live.clear();
    },
  };
}
