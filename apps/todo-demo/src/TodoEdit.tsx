import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useMutate, useMyPresence } from '@quire/react';
import type { TodoPresence } from './presence.js';
import type { TodoReducers } from './reducers.js';
import type { Todo } from './todo.js';

/**
 * The `.edit` field of a todo being edited: focused with the caret at the
 * end; Enter or leaving the field saves (an empty title deletes the todo),
 * Escape cancels. `onDone` ends the editing. While it is open, this tab's
 * presence says so (`editing`), and the others see the todo marked.
 */
export function TodoEdit({ todo, onDone }: { todo: Todo; onDone: () => void }) {
  const mutate = useMutate<TodoReducers>();
  const [draft, setDraft] = useState(todo.title);
  const input = useRef<HTMLInputElement>(null);
  // Escape removes the field, which then blurs: that blur must not commit.
  const done = useRef(false);

  const [, setPresence] = useMyPresence<TodoPresence>();

  useEffect(() => {
    const field = input.current!;
    field.focus();
    field.setSelectionRange(field.value.length, field.value.length);
  }, []);

  useEffect(() => {
    setPresence((me) => me && { ...me, editing: todo.id });
    return () => setPresence((me) => (me?.editing === todo.id ? { ...me, editing: null } : me));
  }, [setPresence, todo.id]);

  const finish = (commit: boolean) => {
    if (done.current) return;
    done.current = true;
    onDone();
    if (commit && draft.trim() !== todo.title) mutate.editTodo({ id: todo.id, title: draft });
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') finish(true);
    else if (event.key === 'Escape') finish(false);
  };

  return (
    <input
      ref={input}
      className="edit"
      aria-label={`Edit ${todo.title}`}
      value={draft}
      onChange={(event) => setDraft(event.target.value)}
      onKeyDown={onKeyDown}
      onBlur={() => finish(true)}
    />
  );
}
