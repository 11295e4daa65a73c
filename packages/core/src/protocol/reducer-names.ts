import { ProtocolError } from '../errors.js';

/**
 * A push names a mutation's reducer only where it differs from the previous
 * mutation's on the same connection; "" repeats it (an edit sent again and
 * again would carry its name each time). One per connection and side.
 */
export class ReducerNames {
  private last: string | undefined;

  /** The client's side: the name to send for the next mutation. */
  pack(name: string): string {
    const wire = name === this.last ? '' : name;
    this.last = name;
    return wire;
  }

  /** What `pack` would send, without counting it as sent. */
  peek(name: string): string {
    return name === this.last ? '' : name;
  }

  /** The server's side: the reducer name of the next mutation received. */
  unpack(wire: string, seq: number): string {
    if (wire !== '') return (this.last = wire);
    if (this.last === undefined) {
      throw new ProtocolError('malformed_frame', `push: mutation ${seq} repeats the previous reducer name, but none came before it on this connection — name the reducer`);
    }
    return this.last;
  }
}
