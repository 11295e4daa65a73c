import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QuireProvider } from '@quire/react';
import { App } from './App.js';
import { InvalidListPage } from './InvalidListPage.js';
import type { ListAddress } from './list-url.js';
import type { TodoClient } from './quire-client.js';

/** Renders the page for `address`: the list through `client` (opened for it), or the error page for an invalid address. */
export function mount(address: ListAddress, client: TodoClient | undefined): void {
  const root = createRoot(document.getElementById('root')!);
  if (address.kind === 'invalid') {
    document.title = 'Not a list • Quire TodoMVC';
    root.render(
      <StrictMode>
        <InvalidListPage given={address.given} />
      </StrictMode>,
    );
    return;
  }
  root.render(
    <StrictMode>
      <QuireProvider client={client!}>
        <App listId={address.id} />
      </QuireProvider>
    </StrictMode>,
  );
}
