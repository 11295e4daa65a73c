import { QuireError, type Reducers } from '@quire/core';
import { appVersionOf } from '@quire/core/internal';

/**
 * How a server treats a client of another app version (see `defineApp`):
 * - a newer client is refused at hello (`server_outdated`): it keeps its
 *   changes and retries until a server of its version answers;
 * - an older client is welcomed; its calls run when their reducer still
 *   exists, and are refused with `update_required` when it does not.
 * Equal versions (and two unversioned sides, version 0) are not affected.
 */

/** The hello's refusal when the client runs a newer app version than the server, else undefined. */
export function serverOutdated(clientVersion: number, serverVersion: number): QuireError | undefined {
  if (clientVersion <= serverVersion) return undefined;
  return new QuireError(
    'server_outdated',
    `this client runs app version ${clientVersion}, but this server runs version ${serverVersion}; nothing of the client was applied — the client keeps its changes and retries until a server of version ${clientVersion} answers (finish deploying version ${clientVersion} to the servers)`,
  );
}

/**
 * The rejection of a call from a client older than the server whose reducer
 * the server's version no longer has, else undefined. Calls of reducers that
 * still exist run as usual (a changed argument shape fails on its own, e.g.
 * `invalid_args`).
 */
export function updateRequired(reducers: Reducers, call: { name: string; appVersion?: number | undefined }): QuireError | undefined {
  const serverVersion = appVersionOf(reducers);
  if (call.appVersion === undefined || call.appVersion >= serverVersion) return undefined;
  if (Object.hasOwn(reducers.definitions, call.name)) return undefined;
  return new QuireError(
    'update_required',
    `reducer "${call.name.slice(0, 200)}" does not exist in app version ${serverVersion}, which the server runs; this client runs version ${call.appVersion}, so the call was not applied — reload the app to update it`,
  );
}
