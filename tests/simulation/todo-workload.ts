import { defineReducers } from '@quire/core';
import { chaosReducers } from '../helpers/chaos-reducers.js';
import { todoReducers } from '../helpers/todo-reducers.js';

/** The simulation's reducers: the bank and ledger of the crash loop, and the todo app's own. */
export const simReducers = defineReducers({
  ...chaosReducers.definitions,
  initTodos: todoReducers.definitions.init,
  addTodo: todoReducers.definitions.addTodo,
  toggle: todoReducers.definitions.toggle,
});

export type SimReducers = typeof simReducers;

interface Todo {
  /** Its addTodo's `server` promise resolved. */
  added: boolean;
  /** Toggles whose `server` promise resolved. */
  toggles: number;
  /** Toggles whose outcome nobody will hear (their client crashed first): parity is unknown. */
  unknownToggles: number;
}

/**
 * What the todo clients did and what the server's `todos` table must show
 * for it: every confirmed todo is there once, and a todo whose toggles are
 * all known is completed exactly when an odd number of them were applied
 * (a toggle applied twice, or lost, flips it the wrong way).
 */
export class TodoBook {
  private readonly todos = new Map<string, Todo>();
  private readonly anomalies: string[] = [];

  /** A todo to toggle (one whose add was confirmed), or undefined to add one. */
  pick(choice: number): string | undefined {
    const added = [...this.todos].filter(([, t]) => t.added).map(([id]) => id);
    if (added.length === 0 || choice % 3 === 0) return undefined;
    return added[Math.floor(choice / 3) % added.length];
  }

  added(id: string): void {
    this.todos.set(id, { added: false, toggles: 0, unknownToggles: 0 });
  }

  /** The outcome of one call, as its `server` promise told it. */
  settled(op: 'addTodo' | 'toggle', id: string, error?: { code?: string; message?: string }): void {
    const todo = this.todos.get(id)!;
    if (error) return void this.anomalies.push(`${op} ${id} was rejected: ${error.code}: ${error.message}`);
    if (op === 'addTodo') todo.added = true;
    else todo.toggles++;
  }

  /** A toggle of a crashed client that never settled: applied or not, nobody knows. */
  lost(op: 'addTodo' | 'toggle', id: string): void {
    if (op === 'toggle') this.todos.get(id)!.unknownToggles++;
  }

  check(rows: ReadonlyArray<{ id: string; completed: number }>): string[] {
    const violations = [...this.anomalies];
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const row of rows) if (!this.todos.has(row.id)) violations.push(`todo ${row.id} was never added`);
    for (const [id, todo] of this.todos) {
      const row = byId.get(id);
      if (todo.added && !row) violations.push(`todo ${id} was confirmed but is not in the document`);
      if (row && todo.unknownToggles === 0 && row.completed !== todo.toggles % 2) {
        violations.push(`todo ${id} was toggled ${todo.toggles} times but completed is ${row.completed}`);
      }
    }
    return violations;
  }
}
