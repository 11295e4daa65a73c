import { describe, expect, test } from 'vitest';
import { SYNC_STATE_LABELS, syncStateOf, unsavedText } from './sync-state.js';

const error = { code: 'close_1006', message: 'connection closed' };

describe('the sync bar', () => {
  test('tells apart offline by choice, an unreachable server and connected', () => {
    expect(syncStateOf({ connection: 'offline', offlineByChoice: true, lastError: undefined })).toBe('offline-by-choice');
    // Even with an old error: the user chose it, nothing is retried.
    expect(syncStateOf({ connection: 'offline', offlineByChoice: true, lastError: error })).toBe('offline-by-choice');
    expect(syncStateOf({ connection: 'offline', offlineByChoice: false, lastError: error })).toBe('reconnecting');
    expect(syncStateOf({ connection: 'connected', offlineByChoice: false, lastError: undefined })).toBe('connected');
  });

  test('a retry in progress still reads "reconnecting"; only a first attempt reads "connecting"', () => {
    expect(syncStateOf({ connection: 'connecting', offlineByChoice: false, lastError: undefined })).toBe('connecting');
    expect(syncStateOf({ connection: 'connecting', offlineByChoice: false, lastError: error })).toBe('reconnecting');
  });

  test('app versions: an outdated page and a page waiting for the server read as such, through retries too', () => {
    expect(syncStateOf({ connection: 'update_required', offlineByChoice: false, lastError: undefined })).toBe('update_required');
    expect(syncStateOf({ connection: 'waiting_for_server', offlineByChoice: false, lastError: { code: 'server_outdated', message: 'older server' } })).toBe('waiting_for_server');
    expect(SYNC_STATE_LABELS.waiting_for_server).toBe('Waiting for the server to be updated');
  });

  test('labels say what is going on in words', () => {
    expect(SYNC_STATE_LABELS['offline-by-choice']).toBe('Offline by choice');
    expect(SYNC_STATE_LABELS.reconnecting).toBe('Reconnecting: server unreachable');
    expect(SYNC_STATE_LABELS.connected).toBe('Connected');
  });

  test('counts unsaved changes in words, not as a version number', () => {
    expect(unsavedText(0)).toBe('All changes saved');
    expect(unsavedText(1)).toBe('1 change not yet saved');
    expect(unsavedText(12)).toBe('12 changes not yet saved');
  });
});
