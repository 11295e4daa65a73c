import { expectTypeOf, test } from 'vitest';
import type { ClientMessage, CommitMessage, HelloMessage, Message, PageChange, PageImage, Rejection, ServerMessage, SnapshotMessage } from './index.js';

test('message types are inferred from the schemas', () => {
  expectTypeOf<HelloMessage>().toEqualTypeOf<{ type: 'hello'; protocolVersion: number; appVersion: number; clientId: string; lastLsn: number; fromSeq: number; partial: boolean; held: { pgno: number }[] }>();
  expectTypeOf<PageImage>().toEqualTypeOf<{ pgno: number; data: Uint8Array }>();
  expectTypeOf<Rejection>().toEqualTypeOf<{ clientId: string; seq: number; code: string; message: string }>();
  expectTypeOf<SnapshotMessage['done']>().toEqualTypeOf<boolean>();
  expectTypeOf<PageChange>().toEqualTypeOf<{ pgno: number; encoding: number; data: Uint8Array }>();
  expectTypeOf<CommitMessage['pages']>().toEqualTypeOf<PageChange[]>();
  expectTypeOf<ClientMessage['type']>().toEqualTypeOf<'hello' | 'push' | 'getPages' | 'forget' | 'setPresence'>();
  expectTypeOf<ServerMessage['type']>().toEqualTypeOf<'welcome' | 'snapshot' | 'commit' | 'rejections' | 'durable' | 'pages' | 'presence' | 'error'>();
  expectTypeOf<Extract<Message, { type: 'push' }>['mutations'][number]>().toEqualTypeOf<{ seq: number; name: string; args: string }>();
});
