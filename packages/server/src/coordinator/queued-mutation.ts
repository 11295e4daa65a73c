/** A mutation waiting in a document's queue. */
export interface QueuedMutation {
  clientId: string;
  /** 0 for mutations that start on the server: they have no client sequence. */
  seq: number;
  name: string;
  argsJson: string;
  userId: string | undefined;
  /** The app version of the client that sent it; undefined for the server's own (see app-versions.ts). */
  appVersion?: number | undefined;
}
