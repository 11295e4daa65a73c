import { register } from 'node:module';

/**
 * Importing this module lets the process import TypeScript files
 * (see ./typescript-hooks.ts). The CLI imports it before loading `.ts`
 * reducers; a Node script can too: `node --import @quire/server/typescript client.mjs`.
 *
 * From the workspace's TypeScript sources (this file ends in .ts) a
 * TypeScript loader is already running, so there is nothing to add.
 */
if (import.meta.url.endsWith('.js')) register('./typescript-hooks.js', import.meta.url);
