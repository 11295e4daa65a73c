import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { MutationRejectedError, type MutationHandle, type QuireClient } from '@quire/core';
import { withSeed, within } from '../helpers/client-pool.js';
import { seedFromEnv, seededRandom } from '../helpers/seeded-random.js';
import { serverQuery } from '../helpers/server-rows.js';
import { expectSamePages, startHarness, waitForSettled, type Harness } from '../helpers/sync-harness.js';
import { todoReducers, type TodoReducers } from '../helpers/todo-reducers.js';

type Client = QuireClient<TodoReducers>;
type Kind = 'add' | 'toggle' | 'rename' | 'remove';

interface Issued {
  kind: Kind;
  id: string;
  title?: string;
  client: string;
  outcome: Promise<{ ok: true; lsn: number } | { ok: false; error: unknown }>;
}

const TOTAL = 300;
const ROWS = 'SELECT id, title, completed FROM todos ORDER BY id';

describe('convergence', () => {
  let h: Harness<TodoReducers>;
  beforeEach(async () => {
    h = await startHarness(todoReducers);
  });
  afterEach(() => h.close());

  test(`three clients, ${TOTAL} interleaved conflicting mutations: every replica ends page-identical to the server`, async () => {
    const seed = seedFromEnv();
    await withSeed(seed, async () => {
      const rnd = seededRandom(seed);
      const server = h.server;
      const clients: Client[] = [h.client({ clientId: 'conv-a' }), h.client({ clientId: 'conv-b' }), h.client({ clientId: 'conv-c' })];
      await clients[0]!.mutate.init().server;
      for (const c of clients) await waitForSettled(c, server);

      const issued: Issued[] = [];
      const track = (client: Client, kind: Kind, id: string, handle: MutationHandle, title?: string) => {
        const outcome = handle.server.then(
          ({ lsn }) => ({ ok: true as const, lsn }),
          (error: unknown) => ({ ok: false as const, error }),
        );
        issued.push({ kind, id, client: client.clientId, outcome, ...(title === undefined ? {} : { title }) });
        return handle;
      };
      const budget = () => TOTAL - issued.length;
      let nextId = 0;
      let nextTitle = 0;
      // Titles of varying length, so rows spread over several pages that split and merge.
      const title = () => `title-${nextTitle++}-${'x'.repeat(rnd.int(400))}`;
      const contested = new Set<string>();
      // Read-your-writes through every rebase: a client always sees the
      // todos it added (pending or confirmed) until someone issues a remove.
      const ownAdds = new Map<string, string[]>(clients.map((c) => [c.clientId, []]));
      const removeIssued = new Set<string>();
      let ownChecks = 0;

      /** Todos this client sees now (its base plus its own pending mutations). */
      const visible = async (c: Client) => (await c.query<{ id: string }>('SELECT id FROM todos ORDER BY rowid')).map((r) => r.id);
      /** Prefer the oldest few (they are where the conflicts pile up). */
      const target = (ids: string[]) => (rnd.chance(0.6) ? rnd.pick(ids.slice(0, 4)) : rnd.pick(ids));
      const others = (c: Client) => clients.filter((x) => x !== c);

      let steps = 0;
      let overlapping = 0;
      while (budget() > 0 && steps < 5 * TOTAL) {
        steps++;
        // Evidence of interleaving: several clients with unconfirmed mutations at once.
        if (clients.filter((x) => x.status().pending > 0).length >= 2) overlapping++;
        const c = rnd.pick(clients);
        const ids = await visible(c);
        const missing = ownAdds.get(c.clientId)!.filter((id) => !removeIssued.has(id) && !ids.includes(id));
        expect(missing, `todos ${c.clientId} added but cannot see (step ${steps})`).toEqual([]);
        ownChecks += ownAdds.get(c.clientId)!.length;
        const roll = rnd.next();
        let last: MutationHandle | undefined;
        if (ids.length < 3 || roll < 0.22) {
          const id = `t${nextId++}`;
          const t = title();
          last = track(c, 'add', id, c.mutate.addTodo({ id, title: t }), t);
          ownAdds.get(c.clientId)!.push(id);
        } else if (roll < 0.3 && budget() >= 2) {
          // Two clients add the same id in the same tick: the server keeps exactly one.
          const id = `dup${nextId++}`;
          contested.add(id);
          const [x, y] = [c, rnd.pick(others(c))];
          const tx = title();
          const ty = title();
          track(x, 'add', id, x.mutate.addTodo({ id, title: tx }), tx);
          last = track(y, 'add', id, y.mutate.addTodo({ id, title: ty }), ty);
        } else if (roll < 0.5) {
          const id = target(ids);
          last = track(c, 'toggle', id, c.mutate.toggle({ id }));
        } else if (roll < 0.6) {
          // Every client toggles the same todo at once (each only among todos it sees).
          const id = target(ids);
          for (const x of clients) {
            if (budget() === 0) break;
            if (x === c || (await visible(x)).includes(id)) last = track(x, 'toggle', id, x.mutate.toggle({ id }));
          }
        } else if (roll < 0.75) {
          const id = target(ids);
          const t = title();
          last = track(c, 'rename', id, c.mutate.rename({ id, title: t }), t);
        } else if (roll < 0.85) {
          // One client deletes a todo while the others rename and toggle it.
          const removable = ids.filter((id) => !contested.has(id));
          if (removable.length === 0) continue;
          const id = target(removable);
          const [renamer, toggler] = others(c);
          if ((await visible(renamer!)).includes(id) && budget() > 1) {
            const t = title();
            track(renamer!, 'rename', id, renamer!.mutate.rename({ id, title: t }), t);
          }
          if ((await visible(toggler!)).includes(id) && budget() > 1) track(toggler!, 'toggle', id, toggler!.mutate.toggle({ id }));
          removeIssued.add(id);
          last = track(c, 'remove', id, c.mutate.remove({ id }));
        } else {
          const id = target(ids);
          last = track(c, 'toggle', id, c.mutate.toggle({ id }));
        }
        // Mix waiting styles: mostly fire-and-forget, sometimes the local
        // apply, sometimes the server's answer, sometimes just a tick.
        const wait = rnd.next();
        if (last && wait < 0.15) await last.local.catch(() => {});
        else if (last && wait < 0.2) await last.server.catch(() => {});
        else if (wait < 0.35) await new Promise((r) => setTimeout(r, rnd.int(4)));
      }
      expect(issued).toHaveLength(TOTAL);

      const outcomes = await within(Promise.all(issued.map((m) => m.outcome)), 60_000, () => 'every server promise to settle');
      for (const c of clients) await waitForSettled(c, server);
      const pages = [];
      for (const c of clients) pages.push(await expectSamePages(c, server));

      // The oracle: what the server's order must have produced.
      const byId = new Map<string, Array<Issued & { result: (typeof outcomes)[number] }>>();
      issued.forEach((m, i) => {
        const list = byId.get(m.id) ?? [];
        list.push({ ...m, result: outcomes[i]! });
        byId.set(m.id, list);
      });
      const expectedRows: Array<{ id: string; title: string; completed: number }> = [];
      let rejectedAdds = 0;
      for (const [id, list] of byId) {
        const adds = list.filter((m) => m.kind === 'add');
        const won = adds.filter((m) => m.result.ok);
        expect(won, `adds of ${id} that the server applied`).toHaveLength(1);
        for (const m of adds.filter((a) => !a.result.ok)) {
          // Only a racing add of an id someone else took first may lose.
          expect(contested.has(id), `${id}'s add was rejected but nobody raced it`).toBe(true);
          const error = (m.result as { error: unknown }).error;
          expect(error).toBeInstanceOf(MutationRejectedError);
          expect((error as MutationRejectedError).message).toMatch(/UNIQUE constraint failed: todos\.id/);
          rejectedAdds++;
        }
        for (const m of list.filter((x) => x.kind !== 'add')) expect(m.result.ok, `${m.kind} of ${id} by ${m.client}`).toBe(true);
        if (list.some((m) => m.kind === 'remove')) continue;
        const toggles = list.filter((m) => m.kind === 'toggle').length;
        const renames = list.filter((m) => m.kind === 'rename') as Array<Issued & { result: { ok: true; lsn: number } }>;
        let title = won[0]!.title!;
        if (renames.length > 0) {
          // The last rename in the server's order wins; within one commit the order is not observable.
          const lastLsn = Math.max(...renames.map((r) => r.result.lsn));
          const candidates = renames.filter((r) => r.result.lsn === lastLsn).map((r) => r.title!);
          const actual = (await clients[0]!.query<{ title: string }>('SELECT title FROM todos WHERE id = ?', [id]))[0]?.title;
          expect(candidates, `title of ${id}`).toContain(actual);
          title = actual!;
        }
        expectedRows.push({ id, title, completed: toggles % 2 });
      }
      expectedRows.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));

      const { results } = await serverQuery(server, 'doc', [ROWS, 'SELECT count(*) AS n, count(DISTINCT id) AS d FROM todos']);
      expect(results[0], 'the server rows against the oracle').toEqual(expectedRows);
      expect(results[1]![0]!.n).toBe(results[1]![0]!.d);
      for (const c of clients) expect(await c.query(ROWS), `rows on ${c.clientId}`).toEqual(results[0]);

      const counts = Object.fromEntries((['add', 'toggle', 'rename', 'remove'] as const).map((k) => [k, issued.filter((m) => m.kind === k).length]));
      console.log('convergence run', JSON.stringify({ seed, steps, overlapping, ownChecks, counts, contested: contested.size, rejectedAdds, removed: [...byId.values()].filter((l) => l.some((m) => m.kind === 'remove')).length, rows: expectedRows.length, pages: pages[0] }));
      expect(rejectedAdds, 'racing adds of one id: all but one are rejected').toBe(counts.add! - byId.size);
      expect(counts.remove).toBeGreaterThan(0);
      expect(ownChecks).toBeGreaterThan(1000);
      expect(overlapping, 'steps where two or more clients had unconfirmed mutations').toBeGreaterThan(20);
      expect(pages[0], 'the document spans several pages').toBeGreaterThan(5);
      expect(contested.size).toBeGreaterThan(0);
    });
  });
});
