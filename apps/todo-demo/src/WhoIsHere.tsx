import { useState, type FormEvent } from 'react';
import { useMyPresence, useOthers } from '@quire/react';
import { type TodoPresence, colourOf, initials, saveName } from './presence.js';

/**
 * Who is on the list: a coloured circle with initials for everyone else
 * here (each tab counts: a user with two tabs open shows twice), and this
 * tab's own, which opens a field to change the name this browser goes by.
 */
export function WhoIsHere() {
  const others = useOthers<TodoPresence>();
  const [me, setMe] = useMyPresence<TodoPresence>();
  const [renaming, setRenaming] = useState(false);
  const [draft, setDraft] = useState('');

  const rename = (event: FormEvent) => {
    event.preventDefault();
    setRenaming(false);
    const name = saveName(draft);
    if (name) setMe((current) => ({ editing: null, ...current, name, colour: colourOf(name) }));
  };

  return (
    <aside className="who" aria-label="Who is on this list" data-testid="who">
      <ul className="who-list">
        {others.map((other) => (
          <li key={other.id} className="who-other" data-testid="who-other" data-name={other.state.name} title={other.state.name}>
            <Avatar name={other.state.name} colour={other.state.colour} />
          </li>
        ))}
      </ul>
      {renaming ? (
        <form className="who-rename" onSubmit={rename}>
          <input
            aria-label="Your name"
            data-testid="who-name-input"
            autoFocus
            maxLength={40}
            value={draft}
            onChange={(event) => setDraft(event.target.value)}
            onBlur={() => setRenaming(false)}
            onKeyDown={(event) => event.key === 'Escape' && setRenaming(false)}
          />
        </form>
      ) : (
        me && (
          <button
            type="button"
            className="who-me"
            data-testid="who-me"
            data-name={me.name}
            title="Change your name"
            onClick={() => {
              setDraft(me.name);
              setRenaming(true);
            }}
          >
            <Avatar name={me.name} colour={me.colour} /> {me.name} (you)
          </button>
        )
      )}
    </aside>
  );
}

export function Avatar({ name, colour }: { name: string; colour: string }) {
  return (
    <span className="avatar" style={{ background: colour }} aria-hidden="true">
      {initials(name)}
    </span>
  );
}
