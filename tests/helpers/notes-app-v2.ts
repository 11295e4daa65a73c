/** `quire migrate --reducers` takes a module whose default export is the app. */
export { notesV2 as default } from './notes-app.js';
