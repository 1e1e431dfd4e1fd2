import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type Database from 'better-sqlite3';
import pg from 'pg';
import type { RequestInput } from '../../src/domain/requests.ts';
import { LAPSED_JOB_RUNS } from '../../src/store/adoption.ts';
import { SqliteDb, type Engine } from '../../src/store/db.ts';
import { ORPHAN_LOOKS } from '../../src/store/requests.ts';
import { CLAIMABLE_RUNS } from '../../src/store/runs.ts';
import { SETTLED_ANNOUNCE_MS } from '../../src/workflows/provisioning/request.ts';
import { Store } from '../../src/store/store.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

/**
 * The engines a store contract test runs on: SQLite on a temporary file, and PostgreSQL on a
 * server of the test file's own (startPostgres(), started at first use and stopped when the file's
 * process exits), each test with a database of its own.
 */
export const ENGINES: readonly Engine[] = ['sqlite', 'postgres'];

let server: Promise<TestPostgres> | undefined;
let databases = 0;

/** The test file's PostgreSQL server, started on first use. */
export function sharedPostgres(): Promise<TestPostgres> {
  return (server ??= startPostgres().then((started) => {
    process.once('exit', () => started.stop());
    return started;
  }));
}

/** A new, empty database on the shared server: its URL. */
export async function freshPostgresDatabase(): Promise<string> {
  const { url } = await sharedPostgres();
  const name = `slipway_${process.pid}_${++databases}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return url.replace(/\/slipway$/, `/${name}`);
}

/** Where a fresh database on `engine` is: a new SQLite file's path, or a new PostgreSQL database's URL. */
export async function freshDatabase(engine: Engine): Promise<string> {
  return engine === 'postgres' ? await freshPostgresDatabase() : join(mkdtempSync(join(tmpdir(), 'slipway-store-')), 'slipway.db');
}

export interface EngineStore {
  engine: Engine;
  /** What `Store.open` took: open it again to see what a restart sees. */
  target: string;
  store: Store;
}

/** A fresh, migrated store on `engine`, closed after the test. */
export async function openStore(t: Pick<TestContext, 'after'>, engine: Engine, options: { surveyKey?: Buffer } = {}): Promise<EngineStore> {
  const target = await freshDatabase(engine);
  const store = await Store.open(target, options);
  t.after(() => store.close());
  return { engine, target, store };
}

/** One test per engine, named `name [sqlite]` and `name [postgres]`, each on a fresh store. */
export function storeTest(name: string, body: (t: TestContext, s: EngineStore) => Promise<void>, options: { surveyKey?: Buffer } = {}): void {
  for (const engine of ENGINES) test(`${name} [${engine}]`, async (t) => body(t, await openStore(t, engine, options)));
}

/** A request as the contract tests make them: `payments-dev` on dev-eu, by U0DEV, with `changes`. */
export function requestInput(changes: Partial<RequestInput> = {}): RequestInput {
  return {
    namespace: 'payments-dev',
    cluster: 'dev-eu',
    team: 'payments',
    environment: 'dev',
    tier: 'small',
    purpose: 'tests',
    expiresOn: undefined,
    requester: 'U0DEV',
    ...changes,
  };
}

/** The better-sqlite3 connection under a SQLite store, for tests of SQLite's own files and tables. */
export function sqliteOf(store: Store): Database.Database {
  if (!(store.sql instanceof SqliteDb)) throw new Error(`a SQLite store was expected, not ${store.engine}`);
  return store.sql.raw;
}

/** A look the replicas make on a timer: its statement, parameters and the partial index it must read (db/0014_timed_looks.sql). */
export interface TimedLook {
  name: string;
  sql: string;
  params: unknown[];
  index: string;
}

/** The looks the replicas make on a timer, as they make them to find what lapsed before `before`. */
export function timedLooks(before: Date): TimedLook[] {
  const at = before.toISOString();
  return [
    {
      name: 'requests never announced',
      sql: ORPHAN_LOOKS.unannounced,
      params: [at, new Date(before.getTime() - SETTLED_ANNOUNCE_MS).toISOString(), 50],
      index: 'requests_unannounced',
    },
    { name: 'outcomes never told', sql: ORPHAN_LOOKS.untold, params: [at, 50], index: 'requests_untold' },
    { name: 'runs to take over', sql: CLAIMABLE_RUNS, params: [at], index: 'runs_running' },
    { name: 'job runs to take over', sql: LAPSED_JOB_RUNS, params: [at], index: 'job_runs_running' },
  ];
}

/**
 * How the engine would run `sql`, one line per step: SQLite's EXPLAIN QUERY PLAN, PostgreSQL's
 * EXPLAIN. `noSeqScan` (PostgreSQL): with sequential scans turned off for the statement's
 * transaction, since a table of a few rows is read whole whatever its indexes, and only then does
 * the plan say whether an index can serve the query.
 */
export async function queryPlan(store: Store, sql: string, params: unknown[], noSeqScan = true): Promise<string> {
  const db = store.sql;
  if (db.engine === 'sqlite') {
    return (await db.prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all(...params)).map((r) => r.detail).join('\n');
  }
  return await db.transaction(async () => {
    if (noSeqScan) await db.exec('SET LOCAL enable_seqscan = off');
    return (
      await db
        .prepare<unknown[], string>(`EXPLAIN ${sql}`)
        .pluck()
        .all(...params)
    ).join('\n');
  });
}
