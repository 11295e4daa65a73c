import 'todomvc-app-css/index.css';
import './demo.css';
import { resolveListAddress } from './list-url.js';
import { openList } from './quire-client.js';

// The engine (its worker, SQLite, the stored replica and the socket) starts
// first, and React and the app load while it opens the list: the page's
// first rows come sooner. Opening a list only reads: the first todo creates
// its table (reducers.ts).
const address = resolveListAddress();
const client = address.kind === 'invalid' ? undefined : openList(address.id);
const { mount } = await import('./mount.js');
mount(address, client);
