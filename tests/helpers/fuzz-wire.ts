/** What the protocol fuzz test tells its client process (./fuzz-client-process.ts), and what it hears back. */
export interface FuzzClientsConfig {
  url: string;
  docId: string;
  seed: number;
  maxMessageBytes: number;
  episodes: number;
  oversized: number;
  streams: number;
  streamSteps: number;
  concurrency: number;
  /** Run only this episode (by index), alone. */
  only?: number;
}

/** Test → process: the server's LSN, so a hello can claim to be current. */
export interface LsnUpdate {
  type: 'lsn';
  lsn: number;
}

export interface FuzzClientsResult {
  episodes: number;
  frames: number;
  badFrames: number;
  byKind: Array<[string, number]>;
  byOutcome: Array<[string, number]>;
  /** Every mutation the server accepted, per client: seq and reducer name (cut to 64 characters). */
  accepted: Array<[string, Array<[number, string]>]>;
  ms: number;
  /** The client process's resident memory at the end, in MB. */
  rssMB: number;
}

/** Process → test. */
export type FuzzClientsEvent = { type: 'done'; result: FuzzClientsResult } | { type: 'failed'; message: string };
