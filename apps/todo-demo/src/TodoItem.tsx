import { memo, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useMutate } from '@quire/react';
import type { TodoReducers } from './reducers.js';
import type { Todo } from './todo.js';

/**
 * One `.todo-list li`: toggle, label (double-click to edit), edit field and
 * destroy button. Memoised: useQuery keeps unchanged rows identical, so a
 * change to one todo re-renders one item, not the whole list.
 */
export const TodoItem = memo(function TodoItem({ todo }: { todo: Todo }) {
  const mutate = useMutate<TodoReducers>();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(todo.title);
  const input = useRef<HTMLInputElement>(null);
  // Escape hides the field, which then blurs: that blur must not commit.
  const editingRef = useRef(false);

  useEffect(() => {
    if (!editing) return;
    const field = input.current!;
    field.focus();
    field.setSelectionRange(field.value.length, field.value.length);
  }, [editing]);

  const startEditing = () => {
    editingRef.current = true;
    setDraft(todo.title);
    setEditing(true);
  };
  const stopEditing = (commit: boolean) => {
    if (!editingRef.current) return;
    editingRef.current = false;
    setEditing(false);
    if (!commit) return;
    if (draft.trim() === todo.title) return;
    mutate.editTodo({ id: todo.id, title: draft });
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') stopEditing(true);
    else if (event.key === 'Escape') stopEditing(false);
  };

  const completed = todo.completed !== 0;
  const className = [completed && 'completed', editing && 'editing'].filter(Boolean).join(' ');
  return (
    <li className={className || undefined} data-id={todo.id}>
      <div className="view">
        <input
          className="toggle"
          type="checkbox"
          checked={completed}
          onChange={() => mutate.toggleTodo({ id: todo.id, completed: !completed })}
        />
        <label onDoubleClick={startEditing}>{todo.title}</label>
        <button className="destroy" aria-label={`Delete ${todo.title}`} onClick={() => mutate.deleteTodo({ id: todo.id })} />
      </div>
      <input
        ref={input}
        className="edit"
        aria-label={`Edit ${todo.title}`}
        value={editing ? draft : todo.title}
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={onKeyDown}
        onBlur={() => stopEditing(true)}
      />
    </li>
  );
});
