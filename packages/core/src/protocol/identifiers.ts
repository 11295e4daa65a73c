/** Document and client ids: safe as file names and URL parts on every platform. */
const ID = /^[A-Za-z0-9_-]{1,128}$/;

/** The client id that server-started mutations run under; no client may take it. */
export const SERVER_CLIENT_ID = '__server';

export function isValidDocId(docId: string): boolean {
  return ID.test(docId);
}

export function isValidClientId(clientId: string): boolean {
  return ID.test(clientId) && clientId !== SERVER_CLIENT_ID;
}

export const ID_RULE = 'use 1 to 128 letters, digits, "-" or "_"';
