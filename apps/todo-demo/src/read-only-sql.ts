/** The most rows the SQL panel shows; one more is fetched to know there are more. */
export const ROW_LIMIT = 1000;

export type ReadOnlyQuery =
  | { ok: true; sql: string }
  | { ok: false; message: string };

const READ_KEYWORDS = new Set(['SELECT', 'WITH', 'VALUES']);

/**
 * Turns what the user typed into a query that can only read.
 *
 * The first keyword gives the friendly refusal; the real guarantee is the
 * wrapper: SQLite accepts nothing but a SELECT inside `FROM (...)`, so even
 * `WITH x AS (...) DELETE ...` fails to compile instead of writing.
 */
export function toReadOnlyQuery(input: string): ReadOnlyQuery {
  const { body, firstWord, rest } = splitFirstStatement(input);
  if (skipTrivia(body, 0) >= body.length) return { ok: false, message: 'Type a SELECT query, or pick an example.' };
  if (rest) return { ok: false, message: 'One statement at a time: remove everything after the first ";".' };
  const keyword = firstWord.toUpperCase();
  if (!READ_KEYWORDS.has(keyword)) {
    const what = keyword ? `${keyword} statements` : 'This statement';
    const hint =
      keyword === 'PRAGMA'
        ? "For schema details, SELECT from a pragma function, e.g. SELECT * FROM pragma_table_info('todos')."
        : 'Change the list through the app: its reducers sync every change to everyone.';
    return { ok: false, message: `Only SELECT queries run here, and ${what.replace(/^This/, 'this')} could write to the replica. ${hint}` };
  }
  // The newlines keep a trailing `-- comment` from swallowing the parenthesis.
  return { ok: true, sql: `SELECT * FROM (\n${body}\n) LIMIT ${ROW_LIMIT + 1}` };
}

/**
 * Finds the first statement, skipping strings, quoted names and comments.
 * `rest` is any non-comment text after its `;`.
 */
function splitFirstStatement(sql: string): { body: string; firstWord: string; rest: string } {
  let firstWord = '';
  let sawToken = false;
  let i = 0;
  while (i < sql.length) {
    const skipped = skipTrivia(sql, i);
    if (skipped !== i) {
      i = skipped;
      continue;
    }
    const c = sql[i]!;
    if (c === ';') {
      // Empty statements (";;") and comments after the first are harmless.
      let j = i + 1;
      while ((j = skipTrivia(sql, j)) < sql.length && sql[j] === ';') j++;
      return { body: sql.slice(0, i), firstWord, rest: sql.slice(j) };
    }
    if (!sawToken) {
      sawToken = true;
      firstWord = /^[A-Za-z_]+/.exec(sql.slice(i))?.[0] ?? '';
    }
    i = skipQuoted(sql, i);
  }
  return { body: sql, firstWord, rest: '' };
}

/** Skips whitespace and comments from `i`. */
function skipTrivia(sql: string, i: number): number {
  for (;;) {
    if (/\s/.test(sql[i] ?? '')) i++;
    else if (sql.startsWith('--', i)) i = endOf(sql, '\n', i + 2);
    else if (sql.startsWith('/*', i)) i = endOf(sql, '*/', i + 2);
    else return i;
  }
}

/** Skips a quoted string or name starting at `i` (quotes escape by doubling), or one character. */
function skipQuoted(sql: string, i: number): number {
  const open = sql[i]!;
  const close = open === '[' ? ']' : open;
  if (!`'"\`[`.includes(open)) return i + 1;
  let j = i + 1;
  for (;;) {
    j = sql.indexOf(close, j);
    if (j < 0) return sql.length;
    if (close !== ']' && sql[j + 1] === close) j += 2;
    else return j + 1;
  }
}

function endOf(sql: string, marker: string, from: number): number {
  const at = sql.indexOf(marker, from);
  return at < 0 ? sql.length : at + marker.length;
}
