import { appV2 } from './versioned-apps.js';

/** `quire serve --reducers` module: version 2 of the app in versioned-apps.ts. */
export default appV2;
