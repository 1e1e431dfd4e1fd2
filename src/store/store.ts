import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AdoptionStore } from './adoption.ts';
import { compose, type Public } from './compose.ts';
import { SqliteDb, type Db, type Engine, type Isolation } from './db.ts';
import { DriftStore } from './drift.ts';
import { EventStore } from './events.ts';
import { IdleStore } from './idle.ts';
import { LifecycleStore } from './lifecycle.ts';
import { migrate, migrationFiles, pendingMigrations } from './migrate.ts';
import { PostgresDb } from './pg.ts';
import { RequestStore } from './requests.ts';
import { RunStore } from './runs.ts';
import { loadSurveyKey, surveyKeyCreatedMessage } from './surveys/key.ts';
import { surveyStore, type SurveyStore } from './surveys.ts';
import { isPostgresUrl, redactUrl } from '../lib/database-url.ts';
import { SlipwayError } from '../errors.ts';

/**
 * The database, and the one way into it: `src/store/` is the only place with SQL. Requests, runs
 * and events (requests.ts, runs.ts, events.ts) are reached through the store itself
 * (`store.getRequest`), each other feature's statements by its name (`store.adoption`,
 * `store.surveys`). Statements are prepared once; rows become domain types in the store.
 */
export interface Store extends Public<RequestStore>, Public<RunStore>, Public<EventStore> {
  /** The engine under the store: SQLite (a file) or PostgreSQL (DATABASE_URL). */
  readonly engine: Engine;
  /**
   * The database seam (src/store/db.ts) the stores use. The bot itself never reaches past the
   * store's methods; tests and benches read rows through it.
   */
  readonly sql: Db;
  /** Adoption metrics, usage snapshots and job runs (src/store/adoption.ts). */
  readonly adoption: AdoptionStore;
  /** Pulse surveys, the question after provisioning, feedback and mutes (src/store/surveys.ts). */
  readonly surveys: SurveyStore;
  /** Day 2: namespaces' owners, end dates and states, timers, extension and deletion requests (src/store/lifecycle.ts). */
  readonly lifecycle: LifecycleStore;
  /** Idle reclaim: the conversations about namespaces that run no pods (src/store/idle.ts). */
  readonly idle: IdleStore;
  /** Drift: the drift job's latest counts, and fleet upgrades with their namespaces (src/store/drift.ts). */
  readonly drift: DriftStore;
  /**
   * Runs `fn` in one transaction: the store methods it calls join it (theirs become savepoints).
   * For bulk loads, which would otherwise commit once per write, and for a decision with what it
   * starts. `isolation`: see src/store/db.ts (`read committed` only when every read-then-write in
   * `fn` is a compare-and-set or a constraint).
   */
  transaction<T>(fn: () => Promise<T>, isolation?: Isolation): Promise<T>;
  /** Whether the database is open and every migration in `db/` has been applied. */
  isReady(): Promise<boolean>;
  close(): Promise<void>;
}

export const Store = {
  /**
   * Opens and migrates the database `target`: a PostgreSQL URL (postgres://…, postgresql://…) or
   * a SQLite file (its directory made if needed). `surveyKey`: the key kept
   * outside the database (src/store/surveys/key.ts); without it, it is read (or made) on first use
   * from SLIPWAY_SURVEY_KEY or the key file, as the bot itself does.
   */
  async open(target: string, options: { surveyKey?: Buffer } = {}): Promise<Store> {
    const seam = isPostgresUrl(target) ? new PostgresDb(target) : openSqlite(target);
    try {
      await migrate(seam);
    } catch (err) {
      await seam.close();
      throw seam.engine === 'postgres' && isConnectionProblem(err) ? new DatabaseUnreachableError(target, err) : err;
    }
    // On PostgreSQL the key file's default place is still next to DATABASE_PATH, as for the bot (src/app.ts).
    const path = seam.engine === 'sqlite' ? target : process.env.DATABASE_PATH?.trim() || './data/slipway.db';
    const surveyKey = options.surveyKey
      ? () => options.surveyKey as Buffer
      : () => {
          const loaded = loadSurveyKey({ databasePath: path, key: process.env.SLIPWAY_SURVEY_KEY, file: process.env.SLIPWAY_SURVEY_KEY_FILE });
          if (loaded.created) process.stderr.write(`slipway: ${surveyKeyCreatedMessage(loaded.source)}\n`);
          return loaded.key;
        };
    // Each feature's statements are prepared when it is first used.
    let adoption: AdoptionStore | undefined;
    let surveys: SurveyStore | undefined;
    let lifecycle: LifecycleStore | undefined;
    let idle: IdleStore | undefined;
    let drift: DriftStore | undefined;
    const requests = new RequestStore(seam);
    const lifecycleStore = () => (lifecycle ??= new LifecycleStore(seam, (id) => requests.getRequest(id)));
    const face = {
      engine: seam.engine,
      sql: seam,
      get adoption(): AdoptionStore {
        return (adoption ??= new AdoptionStore(seam));
      },
      get surveys(): SurveyStore {
        return (surveys ??= surveyStore(seam, surveyKey));
      },
      get lifecycle(): LifecycleStore {
        return lifecycleStore();
      },
      get idle(): IdleStore {
        return (idle ??= new IdleStore(seam));
      },
      get drift(): DriftStore {
        return (drift ??= new DriftStore(seam));
      },
      transaction<T>(fn: () => Promise<T>, isolation?: Isolation): Promise<T> {
        return seam.transaction(fn, isolation);
      },
      async isReady(): Promise<boolean> {
        try {
          return (await pendingMigrations(seam)).length === 0;
        } catch {
          // Closed, or the server cannot be reached.
          return false;
        }
      },
      async close(): Promise<void> {
        await seam.close();
      },
    };
    return compose<Store>(face, [requests, new RunStore(seam, requests, lifecycleStore), new EventStore(seam)]);
  },
};

/** A SQLite file (its directory made if needed), or `:memory:`. */
/** The name of a table, if the database has one by that name (a database Slipway never opened has none). */
const TABLE_NAMED: Record<Engine, string> = {
  sqlite: "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
  postgres: 'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?',
};

/** What `inspectDatabase` finds: the engine, and how far the migrations in `db/` have got. */
export type DatabaseStatus =
  | { engine: Engine; state: 'migrated'; applied: number }
  | { engine: Engine; state: 'behind'; pending: string[] }
  | { engine: 'sqlite'; state: 'missing' }
  | { engine: Engine; state: 'unreachable'; error: unknown };

/**
 * The database `target` as it stands, changing nothing (unlike `Store.open`, which migrates): a
 * SQLite file is opened read-only and not created; a PostgreSQL database is only read. For
 * `slipway doctor`.
 */
export async function inspectDatabase(target: string): Promise<DatabaseStatus> {
  const engine: Engine = isPostgresUrl(target) ? 'postgres' : 'sqlite';
  if (engine === 'sqlite' && (target === ':memory:' || !existsSync(target))) return { engine: 'sqlite', state: 'missing' };
  let seam: Db;
  try {
    seam = engine === 'postgres' ? new PostgresDb(target) : new SqliteDb(new Database(target, { readonly: true, fileMustExist: true, timeout: 5000 }));
  } catch (error) {
    return { engine, state: 'unreachable', error };
  }
  try {
    const tables = await seam.prepare<[string], string>(TABLE_NAMED[engine]).pluck().all('schema_migrations');
    const pending = tables.length === 0 ? migrationFiles() : await pendingMigrations(seam);
    return pending.length === 0 ? { engine, state: 'migrated', applied: migrationFiles().length } : { engine, state: 'behind', pending };
  } catch (error) {
    return { engine, state: 'unreachable', error };
  } finally {
    await seam.close().catch(() => undefined);
  }
}

function openSqlite(path: string): SqliteDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  // Erased values (pulse key material, authors) are overwritten on disk, not left in free pages.
  db.pragma('secure_delete = ON');
  return new SqliteDb(db);
}

/**
 * The PostgreSQL server could not be reached or refused the connection: what the operator fixes
 * (the URL, the network, the credentials), said without a stack trace or the password.
 */
export class DatabaseUnreachableError extends SlipwayError {
  constructor(url: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('database_unreachable', `Slipway cannot start: cannot open the PostgreSQL database ${redactUrl(url)}: ${reason}`, { cause });
  }
}

/** Network failures, and PostgreSQL's refusals of a connection (credentials, unknown database, too many clients). */
function isConnectionProblem(err: unknown): boolean {
  const code = err instanceof Error && 'code' in err ? String(err.code) : '';
  return /^(E[A-Z]+|28\w{3}|3D000|53300|57P03)$/.test(code) || (err instanceof Error && /timeout|terminated/i.test(err.message));
}
