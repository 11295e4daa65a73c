import { useMemo, useState, type KeyboardEvent } from 'react';
import { useMutate, useOthers } from '@quire/react';
import type { PresencePeer } from '@quire/core';
import type { TodoPresence } from './presence.js';
import { randomId } from './random-id.js';
import type { TodoReducers } from './reducers.js';
import { TodoItem } from './TodoItem.js';
import { FILTERS, useFilter } from './use-filter.js';
import { useScreenfulFirst } from './use-screenful-first.js';
import { useTodos } from './use-todos.js';

/** The TodoMVC `section.todoapp`, reading the list live from the local replica. */
export function TodoApp() {
  const mutate = useMutate<TodoReducers>();
  const filter = useFilter();
  const { todos, error } = useTodos();
  const [title, setTitle] = useState('');

  const onNewTodoKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key !== 'Enter') return;
    const trimmed = title.trim();
    if (!trimmed) return;
    mutate.addTodo({ id: randomId(), title: trimmed });
    setTitle('');
  };

  const activeCount = todos.filter((t) => !t.completed).length;
  const completedCount = todos.length - activeCount;
  const visible = todos.filter((t) => (filter === 'all' ? true : filter === 'active' ? !t.completed : !!t.completed));
  const rendered = useScreenfulFirst(visible);
  const editors = useEditors();

  return (
    <section className="todoapp">
      <header className="header">
        <h1>todos</h1>
        <input
          className="new-todo"
          placeholder="What needs to be done?"
          aria-label="New todo"
          autoFocus
          value={title}
          onChange={(event) => setTitle(event.target.value)}
          onKeyDown={onNewTodoKeyDown}
        />
      </header>
      {error !== undefined && (
        <p className="todo-error" role="alert">
          Could not read the list: {error instanceof Error ? error.message : String(error)}
        </p>
      )}
      {todos.length > 0 && (
        <>
          <section className="main">
            <div className="toggle-all-container">
              <input
                id="toggle-all"
                className="toggle-all"
                type="checkbox"
                checked={activeCount === 0}
                onChange={() => mutate.toggleAll({ completed: activeCount > 0 })}
              />
              <label htmlFor="toggle-all">Mark all as complete</label>
            </div>
            <ul className="todo-list">
              {rendered.map((todo) => (
                <TodoItem key={todo.id} todo={todo} editor={editors.get(todo.id)} />
              ))}
            </ul>
          </section>
          <footer className="footer">
            <span className="todo-count">
              <strong>{activeCount}</strong> {activeCount === 1 ? 'item' : 'items'} left
            </span>
            <ul className="filters">
              {FILTERS.map((f) => (
                <li key={f.filter}>
                  <a href={f.href} className={f.filter === filter ? 'selected' : undefined}>
                    {f.label}
                  </a>
                </li>
              ))}
            </ul>
            {completedCount > 0 && (
              <button className="clear-completed" onClick={() => mutate.clearCompleted()}>
                Clear completed
              </button>
            )}
          </footer>
        </>
      )}
    </section>
  );
}

/**
 * Who else has which todo's edit field open. One subscription for the list,
 * not one per item: an item re-renders only when its own editor changes.
 */
function useEditors(): ReadonlyMap<string, PresencePeer<TodoPresence>> {
  const others = useOthers<TodoPresence>();
  return useMemo(() => {
    const editors = new Map<string, PresencePeer<TodoPresence>>();
    for (const other of others) if (other.state.editing) editors.set(other.state.editing, other);
    return editors;
  }, [others]);
}
