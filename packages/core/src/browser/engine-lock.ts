/** Held while an engine runs a document; `release` once it is closed. */
export interface EngineLock {
  release(): void;
}

interface LockManagerLike {
  request(name: string, options: { ifAvailable: true }, callback: (lock: unknown) => unknown): Promise<unknown>;
  request(name: string, callback: (lock: unknown) => unknown): Promise<unknown>;
}

const STEP_DOWN = 'step_down';

/**
 * One engine per document and browser profile, even across worker scripts.
 * A deploy gives the app's worker a new URL, so tabs of the old build and of
 * the new one run two SharedWorkers; both would load the same stored
 * replica, with one client id, and give two different calls the same seq
 * (the server skips the second as a resend: it would be lost).
 *
 * The engine holds a Web Lock named after the document. A new engine that
 * finds it taken asks the holder to step down (over a BroadcastChannel of
 * the same name), and waits: the holder runs `stepDown` (which closes its
 * client, so its pending calls are stored) and then lets go. The engine
 * opened last wins: that is the tab the user just opened or reloaded, which
 * loads the newest build. Without Web Locks (Node, old browsers) this is a
 * no-op.
 */
export function takeEngineLock(docId: string, stepDown: () => Promise<void>): Promise<EngineLock> {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  if (!locks || typeof BroadcastChannel === 'undefined') return Promise.resolve({ release() {} });
  const name = `quire:engine:${docId}`;
  const channel = new BroadcastChannel(name);
  let held = false;
  let letGo!: () => void;
  const released = new Promise<void>((resolve) => (letGo = resolve));
  const release = () => {
    held = false;
    channel.close();
    letGo();
  };
  channel.onmessage = (event) => {
    if (!held || event.data !== STEP_DOWN) return;
    held = false;
    void stepDown()
      .catch(() => {})
      .finally(release);
  };
  return new Promise<EngineLock>((resolve, reject) => {
    const hold = () => {
      held = true;
      resolve({ release });
      // The lock is held until this settles.
      return released;
    };
    locks
      .request(name, { ifAvailable: true }, (lock) => {
        if (lock) return hold();
        channel.postMessage(STEP_DOWN);
        locks.request(name, hold).catch(reject);
        return undefined;
      })
      .catch(reject);
  });
}
