import { createContext, createElement, useContext, type ReactNode } from 'react';
import { QuireError, type QuireClient, type Reducers } from '@quire/core';

const ClientContext = createContext<QuireClient<Reducers> | null>(null);

/** Props of {@link QuireProvider}. */
export interface QuireProviderProps<R extends Reducers> {
  /**
   * From `createClient`. The provider does not close it: the app owns its
   * lifetime. Any presence type: `useOthers<P>()` and `useMyPresence<P>()` name it.
   */
  client: QuireClient<R, unknown>;
  children?: ReactNode;
}

/**
 * Makes a Quire client available to the hooks below it.
 *
 * @example
 * const client = createClient({ url: 'ws://localhost:8787', docId: 'groceries', reducers });
 * root.render(<QuireProvider client={client}><App /></QuireProvider>);
 */
export function QuireProvider<R extends Reducers>(props: QuireProviderProps<R>): ReactNode {
  return createElement(ClientContext.Provider, { value: props.client as unknown as QuireClient<Reducers> }, props.children);
}

/** The client from the nearest {@link QuireProvider}; throws `no_provider` outside one. */
export function useQuireClient<R extends Reducers = Reducers>(): QuireClient<R> {
  const client = useContext(ClientContext);
  if (!client) throw new QuireError('no_provider', 'no Quire client in context — wrap the app in <QuireProvider client={client}>');
  return client as unknown as QuireClient<R>;
}
