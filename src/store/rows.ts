import type { Statement } from './db.ts';

/**
 * Rows to domain objects. Statements name their columns with the domain's field names
 * (`created_at AS createdAt`), so what is left is what SQLite cannot say: an absent value is NULL
 * where the domain has `undefined`, a flag is 0 or 1, a nested value is JSON text. Times go the
 * other way as ISO strings, whose string order is time order (`window`).
 */

type Column<V> = [V] extends [boolean] ? number : undefined extends V ? Stored<Exclude<V, undefined>> | null : Stored<V>;
type Stored<V> = V extends object ? string : V;

/** The row a statement returns for the domain type `T`, before `present`. */
export type Row<T> = { [K in keyof T]: Column<T[K]> };

/**
 * NULL columns become `undefined` and `fields` (the converted flags and JSON) replace theirs, in
 * place, so the object keeps the statement's column order.
 */
export function present<T>(row: Row<T>, fields: Partial<T> = {}): T {
  const out = row as Record<string, unknown>;
  for (const key of Object.keys(out)) if (out[key] === null) out[key] = undefined;
  return Object.assign(out, fields) as T;
}

/** A window of time as statement parameters: half-open, `from <= at < to`. */
export interface Window {
  from: string;
  to: string;
}

/** The window from `from` to `to`, as the statements take it. */
export function window(from: Date, to: Date): Window {
  return { from: from.toISOString(), to: to.toISOString() };
}

/**
 * A write refused by a UNIQUE constraint or a primary key (SQLite's codes, or PostgreSQL's 23505,
 * which covers both): someone else got there first.
 */
export function isUniqueViolation(err: unknown): boolean {
  return (
    err instanceof Error && 'code' in err && (err.code === 'SQLITE_CONSTRAINT_UNIQUE' || err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || err.code === '23505')
  );
}

/** Runs an `INSERT … RETURNING id` and gives the new row's id (the statement must insert one row). */
export async function insertedId<P>(insert: Statement<P, { id: number }>, ...params: P extends unknown[] ? P : [P]): Promise<number> {
  const row = await insert.get(...params);
  if (!row) throw new Error('the INSERT returned no id');
  return Number(row.id);
}
