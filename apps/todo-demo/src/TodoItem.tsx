import { memo, useState } from 'react';
import { useMutate } from '@quire/react';
import type { PresencePeer } from '@quire/core';
import type { TodoPresence } from './presence.js';
import type { TodoReducers } from './reducers.js';
import type { Todo } from './todo.js';
import { TodoEdit } from './TodoEdit.js';
import { Avatar } from './WhoIsHere.js';

/**
 * One `.todo-list li`: toggle, label (double-click to edit) and destroy
 * button; the edit field exists only while editing (as in TodoMVC's own
 * React example), so a list of a thousand holds a thousand inputs, not two
 * thousand. Memoised: useQuery keeps unchanged rows identical, so a change
 * to one todo re-renders one item, not the whole list. `editor`: someone
 * else has this todo's edit field open (their presence says so).
 */
export const TodoItem = memo(function TodoItem({ todo, editor }: { todo: Todo; editor?: PresencePeer<TodoPresence> | undefined }) {
  const mutate = useMutate<TodoReducers>();
  const [editing, setEditing] = useState(false);

  const completed = todo.completed !== 0;
  const className = [completed && 'completed', editing && 'editing', editor && 'edited-elsewhere'].filter(Boolean).join(' ');
  return (
    <li className={className || undefined} data-id={todo.id} data-edited-by={editor?.state.name}>
      <div className="view">
        <input
          className="toggle"
          type="checkbox"
          checked={completed}
          onChange={() => mutate.toggleTodo({ id: todo.id, completed: !completed })}
        />
        <label onDoubleClick={() => setEditing(true)}>{todo.title}</label>
        <button className="destroy" aria-label={`Delete ${todo.title}`} onClick={() => mutate.deleteTodo({ id: todo.id })} />
      </div>
      {editing && <TodoEdit todo={todo} onDone={() => setEditing(false)} />}
      {editor && (
        <span className="todo-editor" data-testid="todo-editor" title={`${editor.state.name} is editing this`}>
          <Avatar name={editor.state.name} colour={editor.state.colour} />
        </span>
      )}
    </li>
  );
});
