import type { PendingMutation, Rejected } from '../engine/pending-queue.js';
import type { ClientInspection, ErrorSource, InspectedError, InspectedMutation } from './inspection.js';

/** Errors and settled mutations kept for the inspection. */
export const INSPECT_RING = 20;
/** Pending mutations listed (the count is always exact). */
export const INSPECT_PENDING = 100;
/** Subscribers hear at most this often: a burst of commits makes one notification. */
export const INSPECT_INTERVAL_MS = 150;
const ARGS_PREVIEW = 80;

/** The live part of an inspection, read from the client when one is taken. */
export type InspectionState = Omit<ClientInspection, 'at' | 'settled' | 'errors'>;

/**
 * The client's inspector: a bounded record of recent errors and settled
 * mutations, and throttled notifications of the client's state. It costs
 * nothing while nobody subscribes: the client tells it of every change, and
 * it returns at once; confirmations are recorded only while watched
 * (errors, which are rare, always).
 */
export class Inspector {
  private readonly listeners = new Set<(inspection: ClientInspection) => void>();
  // Oldest first; both bounded to INSPECT_RING.
  private readonly errors: InspectedError[] = [];
  private readonly settled: InspectedMutation[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastNotified = 0;

  constructor(private readonly read: () => InspectionState) {}

  /** Whether anyone subscribed. */
  get watched(): boolean {
    return this.listeners.size > 0;
  }

  /** A mutation settled: a rejection is an error; a confirmation is kept only while watched. */
  mutationSettled(mutation: PendingMutation, lsn: number, rejection: Rejected | undefined): void {
    if (rejection) this.error('rejected', { code: rejection.code, message: `${mutation.name} (seq ${mutation.seq}): ${rejection.message}` }, mutation.seq);
    if (!this.watched) return;
    const base = { seq: mutation.seq, name: mutation.name, args: argsPreview(mutation.argsJson), settledAt: Date.now() };
    const entry: InspectedMutation = rejection ? { ...base, state: 'rejected', error: { code: rejection.code, message: rejection.message } } : { ...base, state: 'confirmed', lsn };
    push(this.settled, entry);
    this.changed();
  }

  error(source: ErrorSource, error: { code: string; message: string }, seq?: number): void {
    const last = this.errors.at(-1);
    const again = last !== undefined && last.source === source && last.code === error.code && last.message === error.message && last.seq === seq;
    const count = again ? last.count + 1 : 1;
    if (again) this.errors.pop();
    push(this.errors, { at: Date.now(), source, code: error.code, message: error.message, count, ...(seq !== undefined ? { seq } : {}) });
    this.changed();
  }

  /** Something the inspection shows may have changed: subscribers hear of it within INSPECT_INTERVAL_MS. */
  changed(): void {
    if (this.listeners.size === 0 || this.timer !== undefined) return;
    const wait = Math.max(0, this.lastNotified + INSPECT_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => this.notify(), wait);
  }

  inspection(): ClientInspection {
    return { at: Date.now(), ...this.read(), settled: [...this.settled].reverse(), errors: [...this.errors].reverse() };
  }

  subscribe(listener: (inspection: ClientInspection) => void): () => void {
    this.listeners.add(listener);
    // The first inspection comes soon, not at the next change.
    this.changed();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  close(): void {
    this.listeners.clear();
    this.stop();
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    // Confirmations seen by no one are not worth keeping.
    this.settled.length = 0;
  }

  private notify(): void {
    this.timer = undefined;
    if (this.listeners.size === 0) return;
    this.lastNotified = Date.now();
    const inspection = this.inspection();
    for (const listener of [...this.listeners]) listener(inspection);
  }
}

/** A pending mutation as listed: its state is worked out by the client. */
export function inspectedMutation(mutation: PendingMutation, state: InspectedMutation['state']): InspectedMutation {
  return { seq: mutation.seq, name: mutation.name, args: argsPreview(mutation.argsJson), state };
}

/** The arguments' JSON without superjson's envelope (a Date shows as its ISO string), cut short; none is ''. */
function argsPreview(argsJson: string): string {
  let text = argsJson;
  try {
    const { json, meta } = JSON.parse(argsJson) as { json?: unknown; meta?: { values?: unknown } };
    const none = json === null && Array.isArray(meta?.values) && meta.values[0] === 'undefined';
    text = none ? '' : JSON.stringify(json);
  } catch {
    // Not superjson's shape: show it as it is.
  }
  return text.length > ARGS_PREVIEW ? `${text.slice(0, ARGS_PREVIEW - 1)}…` : text;
}

function push<T>(ring: T[], entry: T): void {
  ring.push(entry);
  if (ring.length > INSPECT_RING) ring.shift();
}
