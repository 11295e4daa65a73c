import { ID_RULE } from '@quire/core/protocol';

/** What a `?list=` that cannot be a list id shows, instead of opening some other list. */
export function InvalidListPage({ given }: { given: string }) {
  return (
    <section className="todoapp invalid-list" data-testid="invalid-list" role="alert">
      <header className="header">
        <h1>todos</h1>
      </header>
      <div className="invalid-list-body">
        <h2>This list address is not valid</h2>
        <p>
          <code className="invalid-list-id">{given === '' ? '(empty)' : given}</code> cannot name a list: list ids {ID_RULE}.
          Check that the link was copied whole.
        </p>
        <p>
          <a href="/" data-testid="new-list-link">
            Start a new list
          </a>
        </p>
      </div>
    </section>
  );
}
