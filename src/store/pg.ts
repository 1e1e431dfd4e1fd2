import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { postgresDialect, type Db, type Isolation, type RunInfo, type Statement } from './db.ts';

/**
 * The database seam (db.ts) over PostgreSQL: the same statements, with better-sqlite3's
 * placeholders (`?` in order, `@name` from an object) numbered as PostgreSQL's `$1`, `$2`…
 * A transaction holds one pooled connection for its function and what it awaits. It is
 * SERIALIZABLE, as SQLite's are: a read-then-write (a claim, "is this name taken?") behaves as
 * if no other transaction ran meanwhile, and when PostgreSQL cannot promise that it refuses the
 * transaction (40001), which is then run again from the start. So a transaction's function does
 * nothing but database work, as every store's does.
 */

/** The SQL with `$n` placeholders, and for named parameters the name of each `$n`. */
export function numberPlaceholders(sql: string): { text: string; names: string[] } {
  const names: string[] = [];
  let text = '';
  let position = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql.charAt(i);
    if (c === "'") {
      // A quoted literal ('' inside is a quote) is copied as it is.
      const end = sql.indexOf("'", i + 1);
      const stop = end < 0 ? sql.length : end;
      text += sql.slice(i, stop + 1);
      i = stop;
    } else if (c === '-' && sql.charAt(i + 1) === '-') {
      // A comment runs to the end of its line and is copied as it is, an apostrophe in it too.
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      text += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') {
      text += `$${++position}`;
    } else if (c === '@' && /[A-Za-z_]/.test(sql.charAt(i + 1))) {
      const name = /^[A-Za-z_]\w*/.exec(sql.slice(i + 1))?.[0] ?? '';
      let index = names.indexOf(name);
      if (index < 0) index = names.push(name) - 1;
      text += `$${index + 1}`;
      i += name.length;
    } else {
      text += c;
    }
  }
  return { text, names };
}

/** Counts and bigint ids come back as numbers, as SQLite gives them. */
const NUMERIC_TYPES = new Set<number>([pg.types.builtins.INT8, pg.types.builtins.NUMERIC]);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    NUMERIC_TYPES.has(oid) ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

type Queryable = Pick<pg.Pool, 'query'>;

/** Serialization failure and deadlock: the transaction did nothing and may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const ATTEMPTS = 20;

function isRetryable(err: unknown): boolean {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' && RETRYABLE.has(err.code);
}

export class PostgresDb implements Db {
  readonly engine = 'postgres';
  readonly dialect = postgresDialect;
  private readonly context = new AsyncLocalStorage<{ client: pg.PoolClient; depth: number }>();
  readonly pool: pg.Pool;

  constructor(connectionString: string) {
    this.pool = new pg.Pool({ connectionString, types });
    // An idle connection the server closed (a restart, a failover) is dropped by the pool; the
    // next statement gets a new one. Without a listener the error would end the process.
    this.pool.on('error', () => undefined);
  }

  get inTransaction(): boolean {
    return this.context.getStore() !== undefined;
  }

  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- as in Db
  prepare<P extends unknown[] | {} = unknown[], R = unknown>(sql: string): Statement<P, R> {
    return this.statement<P, R>(numberPlaceholders(sql), false);
  }

  private statement<P, R>(query: { text: string; names: string[] }, pluck: boolean): Statement<P, R> {
    const rows = async (params: unknown[]) => {
      const client: Queryable = this.context.getStore()?.client ?? this.pool;
      const named = query.names.length > 0 ? (params[0] as Record<string, unknown>) : undefined;
      const values = named ? query.names.map((name) => named[name]) : params;
      const result = await client.query<Record<string, unknown>>({ text: query.text, values });
      return { result, rows: pluck ? result.rows.map((row) => Object.values(row)[0] as R) : (result.rows as R[]) };
    };
    return {
      get: async (...params) => (await rows(params)).rows[0],
      all: async (...params) => (await rows(params)).rows,
      run: async (...params): Promise<RunInfo> => {
        const { result } = await rows(params);
        // An INSERT … RETURNING id says which row it made.
        const id = result.rows[0]?.id;
        return { changes: result.rowCount ?? 0, lastInsertRowid: typeof id === 'number' ? id : 0 };
      },
      pluck: () => this.statement<P, R>(query, true),
    };
  }

  async transaction<T>(fn: () => Promise<T>, isolation: Isolation = 'serializable'): Promise<T> {
    const outer = this.context.getStore();
    if (outer) {
      const name = `s${outer.depth + 1}`;
      await outer.client.query(`SAVEPOINT ${name}`);
      try {
        const out = await this.context.run({ client: outer.client, depth: outer.depth + 1 }, fn);
        await outer.client.query(`RELEASE SAVEPOINT ${name}`);
        return out;
      } catch (err) {
        await outer.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
        throw err;
      }
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(fn, isolation);
      } catch (err) {
        // READ COMMITTED is never refused for others' writes, but two transactions can still deadlock.
        if (!isRetryable(err) || attempt >= ATTEMPTS) throw err;
        // A little wait, longer each time and never in step with the transaction it met.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 100)));
      }
    }
  }

  async exclusive<T>(lock: number, fn: () => Promise<T>): Promise<T> {
    if (this.inTransaction) throw new Error('exclusive() cannot run inside a transaction');
    // READ COMMITTED: each statement after the lock sees what the previous holder committed
    // (a SERIALIZABLE snapshot would be taken before the wait, and miss it).
    return await this.once(fn, 'read committed', lock);
  }

  private async once<T>(fn: () => Promise<T>, isolation: Isolation, lock?: number): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query(isolation === 'serializable' ? 'BEGIN ISOLATION LEVEL SERIALIZABLE' : 'BEGIN ISOLATION LEVEL READ COMMITTED');
      try {
        if (lock !== undefined) await client.query('SELECT pg_advisory_xact_lock($1)', [lock]);
        const out = await this.context.run({ client, depth: 0 }, fn);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    } finally {
      client.release();
    }
  }

  async exec(sql: string): Promise<void> {
    await (this.context.getStore()?.client ?? this.pool).query(sql);
  }

  checkpoint(): void {
    // PostgreSQL's own checkpoints and vacuum take care of erased rows.
  }

  private closed: Promise<void> | undefined;

  /** Ends the pool's connections; closing twice is closing once. */
  close(): Promise<void> {
    return (this.closed ??= this.pool.end());
  }
}
