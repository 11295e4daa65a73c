import 'todomvc-app-css/index.css';
import './demo.css';
import { resolveListAddress } from './list-url.js';
import { openList } from './quire-client.js';

// React and the app (a chunk of their own) load while the engine (its
// worker, SQLite, the stored replica and the socket) opens the list, so
// the first rows come sooner. The chunk is asked for first: it is the
// larger download. Opening a list only reads: the first todo creates its
// table (reducers.ts).
const mounting = import('./mount.js');
const address = resolveListAddress();
const client = address.kind === 'invalid' ? undefined : openList(address.id);
const { mount } = await mounting;
mount(address, client);
