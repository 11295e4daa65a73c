import { createContext, createElement, useContext, type ReactNode } from 'react';
import { QuireError, type QuireClient, type Reducers } from '@quire/core';

const ClientContext = createContext<QuireClient<Reducers> | null>(null);

/** Makes a Quire client available to the hooks below it. */
export function QuireProvider<R extends Reducers>(props: { client: QuireClient<R>; children?: ReactNode }): ReactNode {
  return createElement(ClientContext.Provider, { value: props.client as unknown as QuireClient<Reducers> }, props.children);
}

/** The client from the nearest {@link QuireProvider}. */
export function useQuireClient<R extends Reducers = Reducers>(): QuireClient<R> {
  const client = useContext(ClientContext);
  if (!client) throw new QuireError('no_provider', 'no Quire client in context — wrap the app in <QuireProvider client={client}>');
  return client as unknown as QuireClient<R>;
}
