import { describe, expect, it } from 'vitest';
import { DocumentLease } from './document-lease.js';
import { MemoryObjects, type VersionedObjects } from './versioned-objects.js';

const TTL = 1000;

function node(objects: VersionedObjects, nodeId: string, clock: { t: number }): DocumentLease {
  return new DocumentLease({ objects, key: 'docs/d/lease', self: { nodeId, address: `ws://${nodeId}` }, ttlMs: TTL, now: () => clock.t });
}

describe('DocumentLease', () => {
  it('goes to the first node; another sees who holds it', async () => {
    const objects = new MemoryObjects();
    const clock = { t: 0 };
    const a = node(objects, 'a', clock);
    const b = node(objects, 'b', clock);
    expect(await a.acquire()).toEqual({ kind: 'held', epoch: 1 });
    expect(a.held).toBe(true);
    expect(await b.acquire()).toEqual({ kind: 'elsewhere', holder: { nodeId: 'a', address: 'ws://a' }, epoch: 1, expiresInMs: TTL });
    expect(b.held).toBe(false);
  });

  it('is taken over only after it stays unchanged for a whole TTL on the new node’s clock', async () => {
    const objects = new MemoryObjects();
    const clockA = { t: 0 };
    const clockB = { t: 50_000 };
    const a = node(objects, 'a', clockA);
    const b = node(objects, 'b', clockB);
    await a.acquire();
    expect((await b.acquire()).kind).toBe('elsewhere');
    clockB.t += TTL - 1;
    expect(await b.acquire()).toMatchObject({ kind: 'elsewhere', expiresInMs: 1 });
    // A renews: B's wait starts again from the new version.
    clockA.t += 100;
    expect(await a.renew()).toBe(true);
    clockB.t += 1;
    expect(await b.acquire()).toMatchObject({ kind: 'elsewhere', expiresInMs: TTL });
    clockB.t += TTL;
    expect(await b.acquire()).toEqual({ kind: 'held', epoch: 2 });
    // A learns it lost at its next renewal.
    expect(await a.renew()).toBe(false);
    expect(a.held).toBe(false);
  });

  it('stops trusting itself before anyone else may take over, whatever the clocks', async () => {
    const objects = new MemoryObjects();
    const clockA = { t: 0 };
    const a = node(objects, 'a', clockA);
    await a.acquire();
    clockA.t += TTL * 0.8 - 1;
    expect(a.held).toBe(true);
    clockA.t += 1;
    expect(a.held).toBe(false);
    // A clock that jumps (a suspended VM) only makes the holder give up sooner.
    const b = node(objects, 'b', { t: 0 });
    expect(await b.acquire()).toMatchObject({ kind: 'elsewhere' });
    clockA.t += 1e9;
    expect(a.held).toBe(false);
    expect(await a.renew()).toBe(true);
    expect(a.held).toBe(true);
  });

  it('can be taken at once after a release', async () => {
    const objects = new MemoryObjects();
    const clock = { t: 0 };
    const a = node(objects, 'a', clock);
    const b = node(objects, 'b', clock);
    await a.acquire();
    expect((await b.acquire()).kind).toBe('elsewhere');
    await a.release();
    expect(a.held).toBe(false);
    expect(await b.acquire()).toEqual({ kind: 'held', epoch: 2 });
  });

  it('lets a restarted node take back its own lease without waiting', async () => {
    const objects = new MemoryObjects();
    const clock = { t: 0 };
    await node(objects, 'a', clock).acquire();
    expect(await node(objects, 'a', clock).acquire()).toEqual({ kind: 'held', epoch: 2 });
  });

  it('gives one winner among racing nodes', async () => {
    const objects = new MemoryObjects();
    const clock = { t: 0 };
    const nodes = Array.from({ length: 16 }, (_, i) => node(objects, `n${i}`, clock));
    const states = await Promise.all(nodes.map((n) => n.acquire()));
    expect(states.filter((s) => s.kind === 'held')).toHaveLength(1);
    const winner = nodes.findIndex((n) => n.held);
    for (const s of states) if (s.kind === 'elsewhere') expect(s.holder.nodeId).toBe(`n${winner}`);
  });

  it('refuses an object that is not a lease', async () => {
    const objects = new MemoryObjects();
    await objects.putIfAbsent('docs/d/lease', new TextEncoder().encode('{"hello":1}'));
    await expect(node(objects, 'a', { t: 0 }).acquire()).rejects.toMatchObject({ code: 'lease_corrupt' });
  });
});
