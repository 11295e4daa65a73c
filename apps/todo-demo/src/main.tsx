import 'todomvc-app-css/index.css';
import './demo.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QuireProvider } from '@quire/react';
import { App } from './App.js';
import { resolveListId } from './list-url.js';
import { openList } from './quire-client.js';

const listId = resolveListId();
const client = openList(listId);
// Creating the schema is a no-op once the list exists; it runs locally first,
// so the app's queries find the table even before the server answers.
client.mutate.init();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QuireProvider client={client}>
      <App listId={listId} />
    </QuireProvider>
  </StrictMode>,
);
