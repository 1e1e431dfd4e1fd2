import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AdoptionStore } from './adoption.ts';
import { compose, type Public } from './compose.ts';
import { SqliteDb, type Db, type Engine } from './db.ts';
import { DriftStore } from './drift.ts';
import { EventStore } from './events.ts';
import { IdleStore } from './idle.ts';
import { LifecycleStore } from './lifecycle.ts';
import { migrate, pendingMigrations } from './migrate.ts';
import { PostgresDb } from './pg.ts';
import { RequestStore } from './requests.ts';
import { RunStore } from './runs.ts';
import { loadSurveyKey, surveyKeyCreatedMessage } from './surveys/key.ts';
import { surveyStore, type SurveyStore } from './surveys.ts';
import { isPostgresUrl } from '../lib/database-url.ts';

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
   * For bulk loads, which would otherwise commit once per write.
   */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
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
      throw err;
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
      transaction<T>(fn: () => Promise<T>): Promise<T> {
        return seam.transaction(fn);
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
function openSqlite(path: string): SqliteDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  // Erased values (pulse key material, authors) are overwritten on disk, not left in free pages.
  db.pragma('secure_delete = ON');
  return new SqliteDb(db);
}
