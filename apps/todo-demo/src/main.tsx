import 'todomvc-app-css/index.css';
import './demo.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QuireProvider } from '@quire/react';
import { App } from './App.js';
import { InvalidListPage } from './InvalidListPage.js';
import { resolveListAddress } from './list-url.js';
import { openList } from './quire-client.js';

const address = resolveListAddress();
const root = createRoot(document.getElementById('root')!);

if (address.kind === 'invalid') {
  document.title = 'Not a list • Quire TodoMVC';
  root.render(
    <StrictMode>
      <InvalidListPage given={address.given} />
    </StrictMode>,
  );
} else {
  // Opening a list only reads: the first todo creates its table (reducers.ts).
  const client = openList(address.id);
  root.render(
    <StrictMode>
      <QuireProvider client={client}>
        <App listId={address.id} />
      </QuireProvider>
    </StrictMode>,
  );
}
