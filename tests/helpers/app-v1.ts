import { appV1 } from './versioned-apps.js';

/** `quire serve --reducers` module: version 1 of the app in versioned-apps.ts. */
export default appV1;
