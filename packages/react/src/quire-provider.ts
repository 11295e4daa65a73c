import { createContext, createElement, useContext, type ReactNode } from 'react';
import { QuireError, type Json, type QuireClient, type Reducers } from '@quire/core';

const ClientContext = createContext<QuireClient<Reducers, unknown> | null>(null);

/** Props of {@link QuireProvider}. */
export interface QuireProviderProps<R extends Reducers, P = unknown> {
  /** From `createClient`, with any presence type. The provider does not close it: the app owns its lifetime. */
  client: QuireClient<R, P>;
  children?: ReactNode;
}

/**
 * Makes a Quire client available to the hooks below it.
 *
 * @example
 * const client = createClient({ url: 'ws://localhost:8787', docId: 'groceries', reducers });
 * root.render(<QuireProvider client={client}><App /></QuireProvider>);
 */
export function QuireProvider<R extends Reducers, P = unknown>(props: QuireProviderProps<R, P>): ReactNode {
  return createElement(ClientContext.Provider, { value: props.client as unknown as QuireClient<Reducers, unknown> }, props.children);
}

/** The client from the nearest {@link QuireProvider}; throws `no_provider` outside one. `P`: its presence type. */
export function useQuireClient<R extends Reducers = Reducers, P = Json>(): QuireClient<R, P> {
  const client = useContext(ClientContext);
  if (!client) throw new QuireError('no_provider', 'no Quire client in context — wrap the app in <QuireProvider client={client}>');
  return client as unknown as QuireClient<R, P>;
}
