import type { ServerLimits } from '../limits.js';

/** Why one presence update is refused, if it is: the error the sender gets. */
export type PresenceRefusal = { code: 'presence_too_large' | 'presence_too_fast'; message: string };

/**
 * One connection's presence bounds: states of at most `maxPresenceBytes`,
 * and `maxPresenceUpdatesPerSecond` updates (a token bucket holding one
 * second's worth, so short bursts pass). A refused update is not relayed.
 */
export class PresenceQuota {
  private tokens: number;
  private refilledAt = Date.now();
  // Told once per run of refusals, not once per update: a flood gets one error, not a flood back.
  private toldTooFast = false;

  constructor(private readonly limits: Pick<ServerLimits, 'maxPresenceBytes' | 'maxPresenceUpdatesPerSecond'>) {
    this.tokens = limits.maxPresenceUpdatesPerSecond;
  }

  /** Undefined: relay it. Else the refusal; `tell` false means the sender already heard it. */
  check(key: number, bytes: number): (PresenceRefusal & { tell: boolean }) | undefined {
    const { maxPresenceBytes, maxPresenceUpdatesPerSecond: rate } = this.limits;
    const now = Date.now();
    this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) * rate) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) {
      const tell = !this.toldTooFast;
      this.toldTooFast = true;
      return {
        code: 'presence_too_fast',
        message: `presence updates come faster than the server's limit of ${rate} per second (limits.maxPresenceUpdatesPerSecond): the one under key ${key} was dropped, and others keep seeing the previous state — set presence less often, or raise the limit on the server`,
        tell,
      };
    }
    this.tokens -= 1;
    this.toldTooFast = false;
    if (bytes > maxPresenceBytes) {
      return {
        code: 'presence_too_large',
        message: `the presence state under key ${key} is ${bytes} bytes, over the server's limit of ${maxPresenceBytes} (limits.maxPresenceBytes): it was not relayed, and others keep seeing the previous state — keep presence small (ids and positions, not content), or raise the limit on the server`,
        tell: true,
      };
    }
    return undefined;
  }
}
