import { AsyncLocalStorage } from 'node:async_hooks';
import type Database from 'better-sqlite3';

/**
 * The seam between the stores and a database engine: statements prepared once from SQL text,
 * run asynchronously, and transactions. The stores hold `Statement`s and call `transaction`; they
 * never see the driver. On SQLite a statement is a better-sqlite3 prepared statement (so the
 * engine's speed stays), run at once unless another task's transaction holds the connection.
 */

/**
 * What a write did: the rows it changed and, after an INSERT, the new row's id. Only SQLite knows
 * the id without being asked: an INSERT that needs it ends in `RETURNING id` and is run with
 * `get` (`(await insert.get(…)).id`), which both engines answer.
 */
export interface RunInfo {
  changes: number;
  lastInsertRowid: number | bigint;
}

export type Engine = 'sqlite' | 'postgres';

/**
 * SQL fragments the two engines spell differently. Each returns SQL text to put in a statement;
 * `column` and `param` are SQL (a column such as `d.data`, a placeholder such as `?` or `@from`).
 */
export interface Dialect {
  /** The text of `key` in the JSON object a TEXT column holds (NULL when absent). */
  jsonText(column: string, key: string): string;
  /** A condition: `key` of the JSON object in a TEXT column is `true` (NULL when absent; `NOT coalesce(…, FALSE)` for "not true"). */
  jsonTrue(column: string, key: string): string;
  /** The values of a JSON array given as one parameter, as a subquery for `x IN (…)`. */
  jsonArray(param: string, type: 'text' | 'integer'): string;
  /** The milliseconds from one ISO timestamp (TEXT) to a later one, rounded to an integer. */
  msBetween(later: string, earlier: string): string;
}

export const sqliteDialect: Dialect = {
  jsonText: (column, key) => `json_extract(${column}, '$.${key}')`,
  jsonTrue: (column, key) => `json_extract(${column}, '$.${key}')`,
  jsonArray: (param) => `SELECT value FROM json_each(${param})`,
  msBetween: (later, earlier) => `CAST(ROUND((julianday(${later}) - julianday(${earlier})) * 86400000.0) AS INTEGER)`,
};

export const postgresDialect: Dialect = {
  jsonText: (column, key) => `(CAST(${column} AS JSONB) ->> '${key}')`,
  // The same text as the partial index events_auto_approved (db/postgres/0012_baseline.sql), so the planner can use it.
  jsonTrue: (column, key) => `((CAST(${column} AS JSONB) -> '${key}') = CAST('true' AS JSONB))`,
  jsonArray: (param, type) =>
    type === 'integer'
      ? `SELECT CAST(value AS BIGINT) FROM jsonb_array_elements_text(CAST(${param} AS JSONB)) AS value`
      : `SELECT value FROM jsonb_array_elements_text(CAST(${param} AS JSONB)) AS value`,
  msBetween: (later, earlier) => `CAST(ROUND(EXTRACT(EPOCH FROM (CAST(${later} AS TIMESTAMPTZ) - CAST(${earlier} AS TIMESTAMPTZ))) * 1000) AS BIGINT)`,
};

type Args<P> = P extends unknown[] ? P : [P];

/**
 * A prepared statement with positional (`?`) or named (`@name`) parameters, as better-sqlite3
 * takes them. `R` is a row, or the one column's value after `pluck()`.
 */
export interface Statement<P = unknown[], R = unknown> {
  get(...params: Args<P>): Promise<R | undefined>;
  all(...params: Args<P>): Promise<R[]>;
  run(...params: Args<P>): Promise<RunInfo>;
  /** The statement returning each row's first column rather than the row. */
  pluck(): Statement<P, R>;
}

/**
 * How a transaction is isolated on PostgreSQL (SQLite has one writer at a time, and both are the same there).
 * - `serializable` (the default): it behaves as if no other transaction ran meanwhile, so a
 *   read-then-write (is this person in their survey cool-down?) needs no constraint. PostgreSQL
 *   tracks what it read by index page (by table for a scan) and refuses it (it is run again) when
 *   another transaction wrote there meanwhile. Every new row of a table goes to the same last
 *   page of its id index, and a foreign key check reads its parent's page, so transactions that
 *   insert beside each other are refused often, and more often the more run at once.
 * - `read committed`: for a transaction whose every read-then-write is one compare-and-set
 *   statement (`UPDATE … WHERE status = 'pending'`, which waits for a concurrent writer of the
 *   row and checks again) or is refused by a constraint (a UNIQUE index: its caller handles the
 *   violation). It is never refused for what others wrote beside it.
 */
export type Isolation = 'serializable' | 'read committed';

export interface Db {
  readonly engine: Engine;
  readonly dialect: Dialect;
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- better-sqlite3's own bound for named parameters
  prepare<P extends unknown[] | {} = unknown[], R = unknown>(sql: string): Statement<P, R>;
  /**
   * Runs `fn` in a transaction that holds the database for writing (SQLite: BEGIN IMMEDIATE):
   * committed when it resolves, rolled back when it throws. A transaction inside one is a
   * savepoint, rolled back alone when its `fn` throws. Statements run by `fn` (and what it awaits)
   * are in the transaction; other tasks' statements wait for it to end. `isolation` matters on
   * PostgreSQL only (see `Isolation`); a savepoint has its transaction's.
   */
  transaction<T>(fn: () => Promise<T>, isolation?: Isolation): Promise<T>;
  /**
   * Runs `fn` in a transaction that first takes the exclusive lock `lock` (a number naming it):
   * one at a time across every process on the database, and each sees what the previous one
   * committed. SQLite: a transaction (BEGIN IMMEDIATE already excludes other writers).
   * PostgreSQL: an advisory lock, held until the transaction ends. Not inside a transaction.
   */
  exclusive<T>(lock: number, fn: () => Promise<T>): Promise<T>;
  /** Whether the calling task is inside a transaction. */
  readonly inTransaction: boolean;
  /**
   * Moves what erased rows left in the engine's log into the database file, where it is
   * overwritten (SQLite: a WAL checkpoint, best effort, skipped inside a transaction).
   */
  checkpoint(): void;
  /** Runs a script of several statements without parameters (a migration). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** The seam over one better-sqlite3 connection. */
export class SqliteDb implements Db {
  readonly engine = 'sqlite';
  readonly dialect = sqliteDialect;
  /** Set in the async context of a transaction's `fn`: its savepoint depth. */
  private readonly context = new AsyncLocalStorage<{ depth: number }>();
  /** While a transaction is open: settles when it ends. */
  private gate: Promise<void> | undefined;

  constructor(readonly raw: Database.Database) {
    // A transaction stays open across awaits, so a connection must not wait for another's lock
    // inside SQLite: that wait blocks the thread, and the other connection may be in this very
    // process (replicas in tests). It gets SQLITE_BUSY at once and waits here instead (`retry`).
    raw.pragma('busy_timeout = 0');
  }

  get inTransaction(): boolean {
    return this.context.getStore() !== undefined;
  }

  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- as in Db
  prepare<P extends unknown[] | {} = unknown[], R = unknown>(sql: string): Statement<P, R> {
    return this.wrap<P, R>(this.raw.prepare(sql) as unknown as Database.Statement<unknown[], R>);
  }

  private wrap<P, R>(stmt: Database.Statement<unknown[], R>): Statement<P, R> {
    return {
      get: (...params) => this.perform(() => stmt.get(...params)),
      all: (...params) => this.perform(() => stmt.all(...params)),
      run: (...params) => this.perform(() => stmt.run(...params)),
      pluck: () => this.wrap<P, R>(stmt.pluck()),
    };
  }

  /** Runs `op` now, or, when another task's transaction holds the connection, once it has ended. */
  private perform<T>(op: () => T): Promise<T> {
    if (this.gate && !this.context.getStore()) return this.gate.then(() => this.perform(op));
    try {
      return Promise.resolve(op());
    } catch (err) {
      return isBusy(err) ? retry(op) : Promise.reject(err as Error);
    }
  }

  exec(sql: string): Promise<void> {
    return this.perform(() => void this.raw.exec(sql));
  }

  async close(): Promise<void> {
    this.raw.close();
  }

  checkpoint(): void {
    // A reader holding an old snapshot makes it wait for a later one; inside a caller's
    // transaction (bulk loads) SQLite refuses it until that commits.
    if (!this.raw.memory && !this.raw.inTransaction) this.raw.pragma('wal_checkpoint(TRUNCATE)');
  }

  async transaction<T>(fn: () => Promise<T>, _isolation?: Isolation): Promise<T> {
    const outer = this.context.getStore();
    if (outer) return this.savepoint(outer.depth + 1, fn);
    // A transaction the caller began on the connection itself (bulk loads on `raw`), not ours.
    if (!this.gate && this.raw.inTransaction) return this.savepoint(1, fn);
    while (this.gate) await this.gate;
    let release = (): void => undefined;
    this.gate = new Promise<void>((resolve) => (release = resolve));
    try {
      await retry(() => this.raw.exec('BEGIN IMMEDIATE'), true);
      try {
        const out = await this.context.run({ depth: 0 }, fn);
        this.raw.exec('COMMIT');
        return out;
      } catch (err) {
        if (this.raw.inTransaction) this.raw.exec('ROLLBACK');
        throw err;
      }
    } finally {
      this.gate = undefined;
      release();
    }
  }

  exclusive<T>(_lock: number, fn: () => Promise<T>): Promise<T> {
    return this.transaction(fn);
  }

  private async savepoint<T>(depth: number, fn: () => Promise<T>): Promise<T> {
    const name = `s${depth}`;
    this.raw.exec(`SAVEPOINT ${name}`);
    try {
      const out = await this.context.run({ depth }, fn);
      this.raw.exec(`RELEASE ${name}`);
      return out;
    } catch (err) {
      this.raw.exec(`ROLLBACK TO ${name}`);
      this.raw.exec(`RELEASE ${name}`);
      throw err;
    }
  }
}

/** How long a statement waits for another connection's write lock (as better-sqlite3's default timeout). */
const BUSY_WAIT_MS = 5000;

function isBusy(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_BUSY_SNAPSHOT');
}

/** Runs `op` until it gets past SQLITE_BUSY, waiting between tries without blocking the thread. */
async function retry<T>(op: () => T, now = false): Promise<T> {
  const deadline = Date.now() + BUSY_WAIT_MS;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    if (!now) await new Promise((resolve) => setTimeout(resolve, wait));
    now = false;
    try {
      return op();
    } catch (err) {
      if (!isBusy(err) || Date.now() > deadline) throw err;
    }
  }
}
