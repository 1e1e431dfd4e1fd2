/**
 * Where the database is: a SQLite file (`DATABASE_PATH`, the default) or a PostgreSQL server
 * (`DATABASE_URL=postgres://…` or `postgresql://…`). A URL's password never appears in a message.
 */

/** Whether `target` names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** The URL with its password replaced by `***`, for messages and logs. */
export function redactUrl(text: string): string {
  // Done on the text, so that a URL too broken for `new URL` is redacted as well.
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:)[^@/?#]*@/i, '$1***@');
}

/** What is wrong with a `DATABASE_URL`, or undefined when it names a PostgreSQL database. */
export function databaseUrlProblem(value: string): string | undefined {
  const shown = redactUrl(value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `DATABASE_URL must be a URL like postgres://user:password@host:5432/slipway, got "${shown}"`;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return `DATABASE_URL must be a postgres:// or postgresql:// URL (SQLite is set with DATABASE_PATH), got "${shown}"`;
  }
  if (url.pathname.length <= 1) return `DATABASE_URL names no database (postgres://host:5432/<database>), got "${shown}"`;
  return undefined;
}
