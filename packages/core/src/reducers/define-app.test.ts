import { describe, expect, it } from 'vitest';
import { appVersionOf, defineApp, migrationsOf } from './define-app.js';
import { defineReducers } from './define-reducers.js';

describe('defineApp', () => {
  it('gives reducers that carry the version and the migrations, in order', () => {
    const step = (): void => {};
    const app = defineApp({ version: 3, migrations: ['CREATE TABLE t (x)', step], reducers: { add: () => {} } });
    expect(Object.keys(app.definitions)).toEqual(['add']);
    expect(appVersionOf(app)).toBe(3);
    expect(migrationsOf(app)).toEqual(['CREATE TABLE t (x)', step]);
    expect(Object.isFrozen(app.migrations)).toBe(true);
  });

  it('plain defineReducers is app version 0 with no migrations', () => {
    const reducers = defineReducers({ add: () => {} });
    expect(appVersionOf(reducers)).toBe(0);
    expect(migrationsOf(reducers)).toEqual([]);
  });

  it('refuses a version that is not a positive integer, and a migration that is neither SQL nor a function', () => {
    for (const version of [0, -1, 1.5, Number.NaN, '2' as unknown as number]) {
      expect(() => defineApp({ version, reducers: {} })).toThrow(/version must be a positive integer/);
    }
    expect(() => defineApp({ version: 1, migrations: ['  '], reducers: {} })).toThrow(/migration 1 must be SQL or a function of tx — got an empty string/);
    expect(() => defineApp({ version: 1, migrations: ['CREATE TABLE t (x)', 42 as never], reducers: {} })).toThrow(/migration 2 must be SQL or a function of tx — got number/);
    expect(() => defineApp({ version: 1, reducers: { bad: 'x' as never } })).toThrow(/reducer "bad" must be a function/);
  });
});
