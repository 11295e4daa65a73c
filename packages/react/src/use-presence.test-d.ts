import { createClient, type Json, type PresencePeer, type QuireClient } from '@quire/core';
import { describe, expectTypeOf, test } from 'vitest';
import { todoReducers } from '../test/todo-app.js';
import type { QuireProviderProps } from './quire-provider.js';
import { useMyPresence } from './use-my-presence.js';
import { useOthers } from './use-others.js';

interface Me {
  name: string;
  editing: string | null;
}

describe('presence types', () => {
  test('the hooks carry the state type', () => {
    expectTypeOf(useOthers<Me>()).toEqualTypeOf<readonly PresencePeer<Me>[]>();
    expectTypeOf(useOthers()).toEqualTypeOf<readonly PresencePeer<Json>[]>();
    const [me, setMe] = useMyPresence<Me>();
    expectTypeOf(me).toEqualTypeOf<Me | null>();
    setMe({ name: 'Ann', editing: null });
    setMe((m) => m && { ...m, editing: 't1' });
    setMe(null);
    // @ts-expect-error not a Me
    setMe({ name: 'Ann' });
  });

  test('a typed initial state types the client, which any provider takes', () => {
    const me: Me = { name: 'Ann', editing: null };
    const client = createClient({ url: 'ws://x', docId: 'd', reducers: todoReducers, presence: me });
    expectTypeOf(client).toEqualTypeOf<QuireClient<typeof todoReducers, Me>>();
    expectTypeOf(client.presence.others()[0]!.state).toEqualTypeOf<Me>();
    // @ts-expect-error not a Me
    client.presence.set({ name: 1 });
    expectTypeOf(createClient({ url: 'ws://x', docId: 'd', reducers: todoReducers }).presence.mine()).toEqualTypeOf<Json | null>();
    expectTypeOf(client).toExtend<QuireProviderProps<typeof todoReducers, Me>['client']>();
    const props: QuireProviderProps<typeof todoReducers> = { client };
    expectTypeOf(props.client).toEqualTypeOf<QuireClient<typeof todoReducers, unknown>>();
  });
});
